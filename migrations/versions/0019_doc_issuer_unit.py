"""Document flow: an index on the issuers by unit, for a unit's outgoing documents.

The outgoing list and its count look up the documents an organ issued; without an index on the
issuer's unit the database read every issuer row of every document in the province.

Revision ID: 0019_doc_issuer_unit
Revises: 0018_picker
"""

from alembic import op

revision = "0019_doc_issuer_unit"
down_revision = "0018_picker"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_doc_issuer_unit_document", "doc_issuer", ["unit_id", "document_id"])


def downgrade():
    op.drop_index("ix_doc_issuer_unit_document", table_name="doc_issuer")
