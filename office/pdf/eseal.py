"""Adapter for a statutory electronic seal (GB/T 38540-2019, SM2/SM3, OFD/PDF seal formats).

The PAdES signature made by office.pdf.sign with the project CA proves integrity and origin
inside this system; it is NOT a statutory electronic seal. A legally binding 电子印章 must be
applied by a certified seal service (密码管理局 approved, unit seals registered with the
public-security seal system). Deployments plug such a vendor in by implementing ``SealService``
and setting ``PDF_ESEAL_SERVICE = "package.module:ClassName"``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass


@dataclass
class SealPlacement:
    page: int
    x_mm: float
    y_mm: float
    size_mm: float = 42.0


@dataclass
class SealResult:
    pdf: bytes
    seal_id: str
    certificate_sn: str
    vendor_receipt: str = ""


class SealService(ABC):
    """What the system needs from a certified GB/T 38540 seal vendor."""

    @abstractmethod
    def list_seals(self, unit_code: str) -> list[dict]:
        """Seals registered for the unit: id, name, image (PNG bytes), validity."""

    @abstractmethod
    def apply_seal(self, pdf: bytes, unit_code: str, seal_id: str, placement: SealPlacement,
                   operator_id: int) -> SealResult:
        """Apply the SM2 electronic seal (the vendor asks the operator for his key/PIN itself)."""

    @abstractmethod
    def verify(self, pdf: bytes) -> list[dict]:
        """Verify every electronic seal in the file: seal id, signer, valid, reason."""


class VendorSealService(SealService):
    """Placeholder for a certified vendor's service: every call refuses, loudly."""

    def list_seals(self, unit_code: str) -> list[dict]:
        raise NotImplementedError("no certified GB/T 38540 seal service is configured (PDF_ESEAL_SERVICE)")

    def apply_seal(self, pdf, unit_code, seal_id, placement, operator_id):
        raise NotImplementedError("no certified GB/T 38540 seal service is configured (PDF_ESEAL_SERVICE)")

    def verify(self, pdf):
        raise NotImplementedError("no certified GB/T 38540 seal service is configured (PDF_ESEAL_SERVICE)")


def seal_service(config: dict) -> SealService:
    target = config.get("PDF_ESEAL_SERVICE")
    if not target:
        return VendorSealService()
    import importlib

    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)()
