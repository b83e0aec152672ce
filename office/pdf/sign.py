"""PAdES signatures (pyHanko) with the unit's certificate from the project CA, and verification.

The visible appearance is the unit's seal image, placed where the layout put the seal.
A statutory GB/T 38540 (SM2) electronic seal is a different thing: see office.pdf.eseal.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

from office.pdf import pki


@dataclass
class SealBox:
    page: int  # 0-based
    x0: float  # PDF points, origin bottom-left
    y0: float
    x1: float
    y1: float


def sign_pdf(pdf: bytes, unit_code: str, *, seal_png: str | None = None, box: SealBox | None = None,
             reason: str = "", field_name: str = "Seal1") -> bytes:
    from pyhanko.pdf_utils import images
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers
    from pyhanko.stamp import StaticStampStyle

    key_path, cert_path = pki.unit_paths(unit_code)
    if not cert_path.exists():
        raise FileNotFoundError(f"no certificate for unit {unit_code}: run `flask --app office pki init`")
    signer = signers.SimpleSigner.load(str(key_path), str(cert_path), ca_chain_files=(str(pki.root_cert_path()),))
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    spec = None
    style = None
    if box is not None:
        spec = fields.SigFieldSpec(field_name, on_page=box.page, box=(box.x0, box.y0, box.x1, box.y1))
        if seal_png:
            from PIL import Image

            style = StaticStampStyle(background=images.PdfImage(Image.open(seal_png)), border_width=0,
                                     background_opacity=1.0)
    meta = signers.PdfSignatureMetadata(field_name=field_name, reason=reason or None,
                                        subfilter=fields.SigSeedSubFilter.PADES)
    pdf_signer = signers.PdfSigner(meta, signer=signer, stamp_style=style, new_field_spec=spec)
    out = io.BytesIO()
    pdf_signer.sign_pdf(writer, output=out)
    return out.getvalue()


@dataclass
class Verdict:
    ok: bool
    lines: list[str]


def verify_pdf(data: bytes, trust_roots: list[Path] | None = None) -> Verdict:
    """Valid only when every signature is intact, covers the whole file and chains to a trusted root."""
    from asn1crypto import pem
    from asn1crypto import x509 as ax509
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    roots = []
    for p in trust_roots or []:
        raw = Path(p).read_bytes()
        if pem.detect(raw):
            _, _, raw = pem.unarmor(raw)
        roots.append(ax509.Certificate.load(raw))
    lines: list[str] = []
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        sigs = list(reader.embedded_signatures)
    except Exception as exc:  # noqa: BLE001 - a mangled file is a tampered file
        return Verdict(False, [f"TAMPERED: unreadable PDF ({type(exc).__name__}: {exc})"])
    if not sigs:
        return Verdict(False, ["NOT SIGNED: no signature in the file"])
    ok = True
    for sig in sigs:
        try:
            vc = ValidationContext(trust_roots=roots, allow_fetching=False)
            status = validate_pdf_signature(sig, vc)
        except Exception as exc:  # noqa: BLE001
            ok = False
            lines.append(f"{sig.field_name}: TAMPERED ({type(exc).__name__}: {exc})")
            continue
        signer = status.signing_cert.subject.human_friendly if status.signing_cert else "?"
        whole = status.coverage is not None and status.coverage.name == "ENTIRE_FILE"
        good = bool(status.intact and status.valid and whole)
        trusted = bool(status.trusted)
        ok = ok and good and trusted
        state = "valid" if good and trusted else ("valid but untrusted signer" if good else "TAMPERED")
        lines.append(f"{sig.field_name}: {state}; signer {signer}; intact={status.intact} "
                     f"valid={status.valid} trusted={trusted} coverage={status.coverage.name if status.coverage else '?'}")
    return Verdict(ok, lines)


def verify_trusting_project_ca(data: bytes, extra_roots: list[Path] | None = None) -> Verdict:
    """``verify_pdf`` trusting the project CA's root (when ``pki init`` made one) and ``extra_roots``."""
    from office.pdf import pki

    roots = list(extra_roots or [])
    if pki.root_cert_path().exists():
        roots.append(pki.root_cert_path())
    return verify_pdf(data, roots)


def seal_boxes(document) -> list[SealBox]:
    """Where WeasyPrint placed the seal images (``img.seal``), in PDF points."""
    boxes = []
    for index, page in enumerate(document.pages):
        height_pt = page.height * 0.75
        for box in page._page_box.descendants():
            el = getattr(box, "element", None)
            if el is not None and el.tag == "img" and "seal" in (el.get("class") or "").split() \
                    and getattr(box, "element_tag", "img") == "img" and hasattr(box, "content_box_x"):
                x, y = box.content_box_x() * 0.75, box.content_box_y() * 0.75
                w, h = box.width * 0.75, box.height * 0.75
                boxes.append(SealBox(index, x, height_pt - y - h, x + w, height_pt - y))
    return boxes
