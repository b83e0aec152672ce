"""Sample inputs: the demo, the tests and the benchmark render these."""

from __future__ import annotations

from datetime import date

from office.config import BASE_DIR
from office.pdf.parse import parse_body
from office.pdf.types import Issuer, OfficialDocument

SEAL = str(BASE_DIR / "static" / "pdf" / "demo-seal.png")
SEAL2 = str(BASE_DIR / "static" / "pdf" / "demo-seal-2.png")

# Rare characters of names and places in the demo province (Zhejiang).
RARE = "嵊州、衢州、丽水、瓯海、鄞州、婺城、磐安、缙云、龚劼、王喆、李昇、陈燊、柯城、衢江、泰顺、嵊泗、椒江、乐清、鹿城"

NOTICE_BODY = """为深入贯彻落实省委、省政府关于推进数字政府建设的决策部署，进一步提升跨层级协同办公水平，经省政府同意，现就有关事项通知如下。
一、总体要求
坚持系统观念，统筹省、市、县、乡四级，以公文、审批、报表为重点，推动办公流程全面线上运行，做到流程可追溯、数据可共享、安全可保障。到2026年底，全省各级机关协同办公覆盖率达到100%。
二、主要任务
（一）统一公文处理。各地各部门要按照GB/T 9704—2012《党政机关公文格式》规范公文版式，做到格式统一、要素齐全、用印规范。
1.规范发文流程。拟稿、核稿、会签、签发各环节应当在系统内完成，签发意见、签发人和签发时间完整记录。
2.规范收文流程。收文登记、拟办、批办、承办、催办各环节应当及时办理，不得积压。
（1）嵊州市、衢州市柯城区、丽水市缙云县、温州市瓯海区、宁波市鄞州区、金华市婺城区和磐安县作为首批试点地区，于2026年12月31日前完成部署。
（2）试点地区联系人：龚劼、王喆、李昇、陈燊，请于每月5日前报送工作进展。
（二）统一数据报送。各级统计报表实行一次填报、多方共享，市、县两级不得另行要求基层重复报送。
（三）统一安全管理。严格落实网络安全等级保护制度，做好数据分级分类保护，电子印章和数字证书由省级统一管理。
三、保障措施
（一）加强组织领导。各地各部门要高度重视，明确分管领导和责任处室，制定具体实施方案，确保各项任务落到实处。
（二）强化督促检查。省政府办公厅将适时组织督查，对工作推进不力的地区和部门予以通报。
（三）做好宣传培训。各地要组织开展业务培训，提高机关工作人员运用协同办公系统的能力和水平。
各地各部门在执行中遇到的问题，请及时报告省政府办公厅。"""


def notice(**overrides) -> OfficialDocument:
    """A 4-page notice (通知) of the provincial government, sealed, with 版记."""
    d = OfficialDocument(
        title="浙江省人民政府关于推进全省机关跨层级协同办公的通知",
        issuers=[Issuer("浙江省人民政府", SEAL)],
        organ_mark="浙江省人民政府文件",
        doc_number="浙政发〔2026〕12号",
        main_recipients=["各市、县（市、区）人民政府", "省政府直属各单位"],
        body=parse_body(NOTICE_BODY + "\n" + NOTICE_BODY.split("\n", 1)[1]),
        attachments=["全省协同办公试点地区名单", "试点工作联系人及联系方式"],
        sign_date=date(2026, 11, 21),
        copy_number="000123",
        sensitivity="",
        urgency="特急",
        cc=["省委各部门", "省人大常委会办公厅", "省政协办公厅", "省监委", "省法院", "省检察院"],
        printing_organ="浙江省人民政府办公厅",
        print_date=date(2026, 11, 21),
        note="（此件公开发布）",
    )
    for k, v in overrides.items():
        setattr(d, k, v)
    return d


def long_document(pages: int = 50) -> OfficialDocument:
    """At least ``pages`` pages of body text (for the benchmark): about five paragraphs a page."""
    para = NOTICE_BODY.split("\n")[2]
    text = "\n".join(f"{i}.{para}" if i % 4 else f"（{i}）{para}" for i in range(1, pages * 5))
    return notice(body=parse_body(text), title="浙江省人民政府关于印发长篇文件版式测试方案的通知")


def tightened_notice() -> OfficialDocument:
    """A two-page notice whose closing paragraph, attachments and seal do not fit under the text of its
    second page at the normal pitch: that page is set closer (office.pdf.paging) to hold them."""
    intro = NOTICE_BODY.split("\n")[0]
    items = "\n".join(f"{i}.各地要按时报送本地区工作进展情况。" for i in range(1, 20))
    return notice(body=parse_body(f"{intro}\n{items}\n各地各部门在执行中遇到的问题，请及时报告省政府办公厅。"))
