"""The rows of the benchmark dataset: people, documents with receipts, approval requests, form
values. Each builder writes index ranges ``[start, end)`` with random generators seeded per block,
so a dataset grown from a smaller scale holds the same rows as one built at once."""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta
from types import SimpleNamespace

from sqlalchemy import select, text

from bench import bulk
from office.auth.passwords import hash_password
from office.docflow.archive import archive_number, org_code_of
from office.docflow.common import bigrams, format_number
from office.docflow.models import DocState, ReceiptState
from office.extensions import db
from office.org.models import Unit, UnitKind
from office.timeutil import utcnow

PASSWORD = "Bench@2026!"
BUSY_UNIT_CODE = "330106-office"  # 杭州市西湖区人民政府办公室
BUSY_USERNAME = "busy_clerk"
BLOCK = 10_000
YEAR = 2025
START = datetime(YEAR, 1, 1, 1, 0)

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国志红晓东海燕鹏飞俊峰春梅玲"
VERBS = ["进一步加强", "切实做好", "全面推进", "深入开展", "认真落实", "组织开展", "扎实推进", "加快推进"]
OBJECTS = ["安全生产", "防汛防台", "乡村振兴", "营商环境优化", "基层治理", "森林防火", "数字化改革", "共同富裕示范区建设",
           "养老服务", "低保救助", "耕地保护", "河湖长制", "垃圾分类", "文明城市创建", "消防安全", "食品安全",
           "校园安全", "统计调查", "地质灾害防治", "招商引资", "公共卫生", "人口普查", "民生实事", "政务公开"]
SUFFIXES = ["工作", "专项行动", "检查", "考核", "督查", "排查整治"]
PHRASES = ["各地各部门要提高政治站位，压实工作责任。", "请于规定时间内报送工作进展情况。", "加强统筹协调，形成工作合力。",
           "对工作不力的单位予以通报。", "确保各项任务落到实处。", "严格落实属地管理责任和部门监管责任。",
           "及时总结经验做法，重要情况及时报告。", "做好宣传引导，营造良好氛围。", "强化督促检查，确保取得实效。"]
DOC_STATES = [(DocState.DRAFT, 3), (DocState.REVIEW, 2), (DocState.COUNTERSIGN, 1), (DocState.SIGNOFF, 2),
              (DocState.SIGNED, 1), (DocState.CHECKED, 1), (DocState.NUMBERED, 1), (DocState.SEALED, 1),
              (DocState.DISTRIBUTED, 70), (DocState.ARCHIVED, 18)]
RECEIPT_STATES = [(ReceiptState.DELIVERED, 15), (ReceiptState.SIGNED, 5), (ReceiptState.REGISTERED, 5),
                  (ReceiptState.HANDLING, 10), (ReceiptState.DONE, 60), (ReceiptState.RETURNED, 3),
                  (ReceiptState.RECALLED, 2)]
APPROVAL_STATES = [("running", 30), ("approved", 35), ("rejected", 10), ("returned", 10), ("withdrawn", 15)]
NUMBERED = {DocState.NUMBERED, DocState.SEALED, DocState.DISTRIBUTED, DocState.ARCHIVED}
SENT = {DocState.DISTRIBUTED, DocState.ARCHIVED}
BUSY_SHARE = 0.02  # of distributed documents that also go to the busy county office


def _choice(rng: random.Random, weighted: list[tuple[str, int]]) -> str:
    return rng.choices([s for s, _w in weighted], [w for _s, w in weighted])[0]


def period_name(index: int) -> str:
    return f"{YEAR + index // 12}-{index % 12 + 1:02d}"


# --- people --------------------------------------------------------------------------------------


def build_people(seed: int) -> dict:
    """A clerk, a staff member and a leader in every unit; the busy county office clerk among them."""
    rng = random.Random(f"{seed}:people")
    units = list(db.session.execute(select(Unit).order_by(Unit.id)).scalars())
    pw = hash_password(PASSWORD)
    now = utcnow()
    uid, pid = bulk.next_id("user_account"), bulk.next_id("post")
    users, posts, roles, rows = [], [], [], []
    for u in units:
        ids = []
        for role, title, rank in (("clerk", "文书", None), ("staff", "科员", None), ("leader", "负责人", 1)):
            name = rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN)
            username = BUSY_USERNAME if (u.code == BUSY_UNIT_CODE and role == "clerk") else f"{u.code}.{role}"
            users.append((uid, username, name, f"{username}@bench.invalid", pw, now, False, True, now))
            posts.append((pid, uid, u.id, title, rank, True))
            roles.append((pid, role))
            ids += [uid, name]
            uid, pid = uid + 1, pid + 1
        rows.append([u.id, u.code, u.name, u.short_name, u.path, u.level, u.kind, *ids])
    bulk.load("user_account", ["id", "username", "name", "email", "password_hash", "password_changed_at",
                               "must_change_password", "active", "created_at"], users)
    bulk.load("post", ["id", "user_id", "unit_id", "title", "rank", "is_primary"], posts)
    bulk.load("post_role", ["post_id", "role"], roles)
    db.session.commit()
    bulk.fix_sequences(["user_account", "post"])
    towns = [r[0] for r in rows if r[5] == "township" and r[6] == UnitKind.GOVERNMENT]
    first_town = next(r for r in rows if r[5] == "township")
    return {"units": rows, "townships": towns, "busy_clerk": BUSY_USERNAME,
            "busy_unit_index": next(i for i, r in enumerate(rows) if r[1] == BUSY_UNIT_CODE),
            "issuer_username": "330000-tj.clerk", "province_clerk": "330000-office.clerk",
            "township_clerk": f"{first_town[1]}.clerk"}


# --- documents -----------------------------------------------------------------------------------

# Unit row: id, code, name, short_name, path, level, kind, clerk id, clerk name, staff id, staff name,
# leader id, leader name.
DOC_COLUMNS = ["id", "doc_type", "direction", "title", "body", "lead_unit_id", "path", "drafter_id", "drafter_name",
               "number_prefix", "number_year", "number_seq", "doc_number", "urgency", "sensitivity", "signer_name",
               "signed_by_id", "signed_at", "sign_opinion", "signed_fingerprint", "note", "printing_organ",
               "printing_date", "due_days", "state", "return_reason", "sealed_at", "distributed_at", "created_at",
               "updated_at", "search_tokens", "version"]
RECEIPT_COLUMNS = ["id", "distribution_id", "document_id", "root_document_id", "unit_id", "path", "level", "role",
                   "state", "delivered_at", "due_at", "signed_for_by_id", "signed_for_by_name", "signed_at",
                   "reg_number", "registered_at", "assignee_id", "assignee_name", "result", "done_at",
                   "return_reason", "urge_count", "version"]


class _Docs:
    """Rows of one build pass, with the number counters carried across blocks."""

    def __init__(self, people: dict):
        self.units = people["units"]
        self.busy = people["busy_unit_index"]
        self.docs, self.issuers, self.recipients, self.dists, self.receipts = [], [], [], [], []
        self.numbers, self.archives = [], []
        self.ids = {t: bulk.next_id(t) for t in ("doc_issuer", "doc_recipient", "doc_number", "doc_archive")}
        self.seq = dict(db.session.execute(text(
            "SELECT prefix, MAX(last_value) FROM doc_number_counter WHERE year = :y GROUP BY prefix"),
            {"y": YEAR}).all())

    def next_seq(self, prefix: str) -> int:
        self.seq[prefix] = self.seq.get(prefix, 0) + 1
        return self.seq[prefix]

    def take(self, table: str) -> int:
        self.ids[table] += 1
        return self.ids[table] - 1


def _receipt_counts(rng: random.Random, sent: list[int], total: int) -> dict[int, int]:
    if not sent:
        return {}
    base, rem = divmod(total, len(sent))
    extra = set(rng.sample(range(len(sent)), rem))
    return {d: base + (1 if i in extra else 0) for i, d in enumerate(sent)}


def build_documents(seed: int, start: int, end: int, r_start: int, r_end: int, people: dict) -> None:
    """Documents ``[start, end)`` (ids start + 1 ...) with receipts ``[r_start, r_end)`` spread over
    the distributed ones, block by block."""
    acc = _Docs(people)
    n = end - start
    for b0 in range(start - start % BLOCK, end, BLOCK):
        lo, hi = max(b0, start), min(b0 + BLOCK, end)
        rng = random.Random(f"{seed}:docs:{b0}")
        states = {i: _choice(rng, DOC_STATES) for i in range(b0, b0 + BLOCK)}  # the whole block, always
        sent = [i for i in range(lo, hi) if states[i] in SENT]
        r_lo = r_start + (r_end - r_start) * (lo - start) // n
        r_hi = r_start + (r_end - r_start) * (hi - start) // n
        per_doc = _receipt_counts(rng, sent, r_hi - r_lo)
        rid = r_lo + 1
        for i in range(lo, hi):
            k = per_doc.get(i, 0)
            _document(acc, rng, i, states[i], k, rid)
            rid += k
        _flush(acc)
    _counters(acc)


def _document(acc: _Docs, rng: random.Random, i: int, state: str, k: int, rid: int) -> None:
    units = acc.units
    lead = units[rng.randrange(len(units))]
    doc_id = i + 1
    doc_type = rng.choice(["通知", "通知", "通知", "意见", "通报", "报告", "请示", "函", "批复", "决定", "纪要"])
    title = f"关于{rng.choice(VERBS)}{rng.choice(OBJECTS)}{rng.choice(SUFFIXES)}的{doc_type}"
    body = lead[2] + "：" + "".join(rng.sample(PHRASES, 4))
    created = START + timedelta(seconds=int(i % 200_000 * 157.68)) + timedelta(days=365 * (i // 200_000))
    numbered = state in NUMBERED
    prefix = lead[3] + "发"
    seq = acc.next_seq(prefix) if numbered else None
    number = format_number(prefix, YEAR, seq) if numbered else None
    signed = created + timedelta(hours=20) if numbered or state in (DocState.SIGNED, DocState.CHECKED) else None
    sealed = created + timedelta(hours=26) if state in (DocState.SEALED, *SENT) else None
    distributed = created + timedelta(hours=27) if state in SENT else None
    tokens = " ".join(dict.fromkeys(bigrams(" ".join([title, number or "", lead[2], body]))))
    due_days = rng.choice([None, 10, 15, 30])
    acc.docs.append((doc_id, doc_type, "down", title, body, lead[0], lead[4], lead[9], lead[10], prefix if numbered
                     else "", YEAR if numbered else None, seq, number, rng.choice(["", "", "", "加急", "特急"]), "",
                     lead[12] if signed else "", lead[11] if signed else None, signed, "同意" if signed else "", "",
                     "", lead[2], sealed.date() if sealed else None, due_days, state, "", sealed, distributed,
                     created, distributed or created, tokens, 1))
    acc.issuers.append((acc.take("doc_issuer"), doc_id, lead[0], 0, "", ""))
    recipients = rng.sample(range(len(units)), min(k or 3, len(units)))
    if k and rng.random() < BUSY_SHARE and acc.busy not in recipients:
        recipients[0] = acc.busy
    for j in recipients:
        acc.recipients.append((acc.take("doc_recipient"), doc_id, units[j][0], "main", ""))
    if state in NUMBERED:
        acc.numbers.append((acc.take("doc_number"), lead[0], prefix, YEAR, seq, number, doc_id, created, "", ""))
    if state == DocState.ARCHIVED:
        org = _org_code(lead)
        item = acc.next_seq(f"ARCHIVE:Z{lead[0]:03d}:Y:{org}")
        acc.archives.append((acc.take("doc_archive"), doc_id, lead[0], lead[4],
                             archive_number(f"Z{lead[0]:03d}", YEAR, "Y", org, item), f"Z{lead[0]:03d}", YEAR, "Y",
                             org, item, 1, lead[8], distributed + timedelta(days=30)))
    if not k:
        return
    acc.dists.append((doc_id, doc_id, doc_id, lead[0], lead[7], lead[8], distributed, k))
    due = distributed + timedelta(days=due_days) if due_days else None
    for n, j in enumerate(recipients):
        u = units[j]
        st = _choice(rng, RECEIPT_STATES if state == DocState.DISTRIBUTED else [(ReceiptState.DONE, 1)])
        signed_for = st in ReceiptState.SIGNED_FOR
        at = distributed + timedelta(hours=2 + n % 48)
        registered = st in (ReceiptState.REGISTERED, ReceiptState.HANDLING, ReceiptState.DONE)
        handling = st in (ReceiptState.HANDLING, ReceiptState.DONE)
        acc.receipts.append((rid + n, doc_id, doc_id, doc_id, u[0], u[4], u[5], "main", st, distributed, due,
                             u[7] if signed_for else None, u[8] if signed_for else "", at if signed_for else None,
                             f"{u[3]}收〔{YEAR}〕{rid + n}号" if registered else None,
                             at + timedelta(hours=1) if registered else None, u[9] if handling else None,
                             u[10] if handling else "", "已办结" if st == ReceiptState.DONE else "",
                             at + timedelta(days=3) if st == ReceiptState.DONE else None,
                             "非本单位业务" if st == ReceiptState.RETURNED else "", 0, 1))


def _flush(acc: _Docs) -> None:
    bulk.load("doc_document", DOC_COLUMNS, acc.docs)
    bulk.load("doc_issuer", ["id", "document_id", "unit_id", "position", "countersigned_name",
                            "countersign_opinion"], acc.issuers)
    bulk.load("doc_recipient", ["id", "document_id", "unit_id", "role", "group_key"], acc.recipients)
    bulk.load("doc_number", ["id", "unit_id", "prefix", "year", "seq", "number", "document_id", "created_at",
                             "void_reason", "voided_by_name"], acc.numbers)
    bulk.load("doc_archive", ["id", "document_id", "unit_id", "path", "archive_number", "fonds", "year", "retention",
                              "org_code", "item_no", "pages", "filed_by_name", "filed_at"], acc.archives)
    bulk.load("doc_distribution", ["id", "document_id", "root_document_id", "sender_unit_id", "created_by_id",
                                   "created_by_name", "created_at", "recipient_count"], acc.dists)
    bulk.load("doc_receipt", RECEIPT_COLUMNS, acc.receipts)
    for rows in (acc.docs, acc.issuers, acc.recipients, acc.numbers, acc.archives, acc.dists, acc.receipts):
        rows.clear()


def _org_code(u: list) -> str:
    return org_code_of(SimpleNamespace(kind=u[6], function_code=u[1].split("-")[-1]))


def _counters(acc: _Docs) -> None:
    """Number counters past every number given, for every unit that may use a prefix (short names
    are shared between organs, so the counter of a prefix is the same for all of them)."""
    db.session.execute(text("DELETE FROM doc_number_counter WHERE year = :y"), {"y": YEAR})
    prefixes = {p: v for p, v in acc.seq.items() if not p.startswith("ARCHIVE:")}
    rows = []
    for u in acc.units:
        p = u[3] + "发"
        if p in prefixes:
            rows.append((u[0], p, YEAR, prefixes[p]))
        archive = f"ARCHIVE:Z{u[0]:03d}:Y:{_org_code(u)}"
        if archive in acc.seq:
            rows.append((u[0], archive, YEAR, acc.seq[archive]))
    bulk.load("doc_number_counter", ["unit_id", "prefix", "year", "last_value"], rows)


# --- approvals -----------------------------------------------------------------------------------


def build_approvals(seed: int, start: int, end: int, people: dict, flow_version_id: int) -> None:
    """Stand-alone requests (请示件) ``[start, end)`` in every state; every 40th waits for the busy clerk."""
    units, busy = people["units"], people["units"][people["busy_unit_index"]]
    items, reqs, tasks, actions = [], [], [], []
    tid = bulk.next_id("approval_task")
    for b0 in range(start - start % BLOCK, end, BLOCK):
        rng = random.Random(f"{seed}:approvals:{b0}")
        picks = [(units[rng.randrange(len(units))], _choice(rng, APPROVAL_STATES)) for _ in range(BLOCK)]
        for i in range(max(b0, start), min(b0 + BLOCK, end)):
            u, state = picks[i - b0]
            assignee = (u[11], u[12])
            if i % 40 == 0:
                u, state, assignee = busy, "running", (busy[7], busy[8])
            rid = i + 1
            created = START + timedelta(minutes=i % 20_000 * 26)
            decided = created + timedelta(hours=30) if state != "running" else None
            title = f"关于申请{rng.choice(OBJECTS)}经费的请示"
            amount = rng.choice([None, 50_000, 80_000, 150_000])
            items.append((rid, title, "请予审批。", amount, u[0], u[9], created,
                          "submitted" if state == "running" else state))
            reqs.append((rid, "request", str(rid), title, u[9], u[0], u[4], flow_version_id, state, 0, 1,
                         json.dumps({"amount": amount, "title": title}, ensure_ascii=False), -1, 1,
                         state != "running", created, created, decided or created, decided))
            task_state = {"running": "open", "withdrawn": "cancelled"}.get(state, state)
            # No due date: the bench flow sets no deadline (and the deadline sweeper of a running
            # app would otherwise escalate every open task of the generated year).
            tasks.append((tid, rid, 0, 1, 0, assignee[0], task_state, "flow", None, created, created, decided if task_state != "cancelled" else None,
                          assignee[0] if task_state not in ("open", "cancelled") else None,
                          {"approved": "同意", "rejected": "不同意", "returned": "请补充材料"}.get(state, "")))
            actions.append((rid, None, None, "submit", u[9], u[10], "", "", "{}", created))
            if state != "running":
                kind = {"approved": "node_done", "rejected": "reject", "returned": "return"}.get(state, "withdraw")
                actions.append((rid, tid, 0, kind, assignee[0], assignee[1], "", tasks[-1][-1], "{}", decided))
            tid += 1
    bulk.load("approval_standalone", ["id", "title", "body", "amount", "unit_id", "created_by_id", "created_at",
                                      "status"], items)
    bulk.load("approval_request", ["id", "subject_type", "subject_id", "title", "requester_id", "unit_id",
                                   "unit_path", "flow_version_id", "state", "node_index", "version", "fields_json",
                                   "reentry_upto", "entry_no", "acted", "created_at", "submitted_at", "updated_at",
                                   "finished_at"], reqs)
    bulk.load("approval_task", ["id", "request_id", "node_index", "entry_no", "seq", "assignee_id", "state",
                                "origin", "due_at", "created_at", "opened_at", "decided_at", "decided_by_id",
                                "opinion"], tasks)
    bulk.load("approval_action", ["request_id", "task_id", "node_index", "kind", "actor_id", "actor_name",
                                  "on_behalf_of_name", "opinion", "detail_json", "created_at"], actions)


# --- forms ---------------------------------------------------------------------------------------

TOPICS = ["人口与就业", "经济运行", "社会救助", "安全生产", "生态环境"]


def element_code(form: int, n: int) -> str:
    return f"B{form}_{n:03d}"


def form_definitions(forms: int, fields: int) -> list[tuple[str, str, list[dict], dict]]:
    """Per form: its code, name, its elements (create_element keyword arguments) and definition.
    Every 25th element is carried forward; every 50th field is computed from the two before it."""
    out = []
    for f in range(1, forms + 1):
        topic = TOPICS[(f - 1) % len(TOPICS)]
        elements, sections = [], []
        for n in range(1, fields + 1):
            agg = {7: "average", 13: "max"}.get(n % 20, "sum")
            elements.append({"code": element_code(f, n), "name": f"{topic}指标{n:03d}",
                             "value_type": "decimal" if n % 10 == 9 else "integer", "aggregation": agg,
                             "period_type": "month", "owner_function": "tj", "carry_forward": n % 25 == 0,
                             "unit_of_measure": "万元" if n % 10 == 9 else "个"})
            field = {"element": element_code(f, n), "required": n % 5 == 1}
            if n % 50 == 0:
                field["computed"] = f"{element_code(f, n - 1)} + {element_code(f, n - 2)}"
            if n % 20 == 1:
                sections.append({"title": f"第{len(sections) + 1}部分", "fields": []})
            sections[-1]["fields"].append(field)
        out.append((f"BENCH_F{f}", f"{topic}月报", elements, {"sections": sections, "rules": []}))
    return out


HASH = "(u.id * 2654435761 + e.id * 40503 + :p * 977 + :seed * 7) % 100000"


def load_values(seed: int, period_index: int) -> int:
    """A typed value for every field of every bench form for every township in one period: one
    INSERT ... SELECT over elements x townships, the value a hash of (unit, element, period, seed)."""
    if bulk.is_postgres():
        decimal = f"to_char(({HASH}) / 10.0, 'FM9999990.0')"
    else:
        decimal = f"printf('%.1f', ({HASH}) / 10.0)"
    sql = f"""
        INSERT INTO form_value (element_id, unit_id, period, value_text, value_num, source, source_ref,
                                template_id, updated_by_name, updated_at, version)
        SELECT e.id, u.id, :period,
               CASE WHEN e.value_type = 'decimal' THEN {decimal} ELSE CAST({HASH} AS VARCHAR(12)) END,
               CASE WHEN e.value_type = 'decimal' THEN ({HASH}) / 10.0 ELSE {HASH} END,
               'typed', '', t.id, '文书', :at, 1
        FROM form_element e
        JOIN form_template t ON t.code = 'BENCH_F' || substr(e.code, 2, 1)
        CROSS JOIN unit u
        WHERE e.code LIKE 'B%' AND t.code LIKE 'BENCH_F%' AND u.level = 'township' AND u.kind = 'government'
    """
    at = START + timedelta(days=31 * period_index + 5)
    return db.session.execute(text(sql), {"p": period_index, "seed": seed, "period": period_name(period_index),
                                          "at": at}).rowcount
