"""The document-flow services in one import: ``from office.docflow import service as docflow``.

Split by stage: ``drafting`` (drafts, recipients, routing), ``outgoing`` (review to seal, with the
separated ``duties``), ``numbering``, ``distribution`` (bulk receipts, status
tree, urge, recall, forwarding), ``receiving``, ``attachments``, ``search``, ``archive``.
"""

from office.docflow.archive import export_package, file_document, records, stamp  # noqa: F401
from office.docflow.attachments import add_attachment, open_attachment, remove_attachment  # noqa: F401
from office.docflow.common import get_document, get_receipt, shown_parts, timeline  # noqa: F401
from office.docflow.distribution import distribute, forward, recall, status_tree, urge  # noqa: F401
from office.docflow.docx_import import import_docx, import_into  # noqa: F401
from office.docflow.drafting import (  # noqa: F401
    GROUPS,
    check_routing,
    create_draft,
    diff,
    revisions,
    update_draft,
)
from office.docflow.duties import combine_allowed, set_combine_duties, settings_of  # noqa: F401
from office.docflow.numbering import allocate_number, next_value, void_number  # noqa: F401
from office.docflow.outgoing import (  # noqa: F401
    countersign,
    is_reviewer,
    recheck,
    review,
    seal,
    signoff,
    submit,
    withdraw,
)
from office.docflow.printing import (  # noqa: F401
    archival_pdf,
    official_document,
    receipt_sheet,
    request_document_pdf,
    request_receipt_pdf,
)
from office.docflow.receiving import (  # noqa: F401
    assign,
    circulate,
    close,
    incoming,
    instruct,
    mark_read,
    propose,
    register,
    request_instruction,
    return_missent,
    sign_for,
    steps,
)
from office.docflow.search import search, unit_document_count, unit_documents  # noqa: F401
