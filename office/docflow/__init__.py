"""Document flow (公文流转): drafting to archive under the 2012 Regulations on Handling
Official Documents of Party and Government Organs; distribution across the levels with a status tree
down to the townships; receiving, handling and forwarding; search; attachments; archive packages.

Services: ``office.docflow.service`` (split into drafting, numbering, distribution, receiving,
attachments, search, archive). Sign-off (签发) and the leader's instruction (批办) run in the approval engine
(``docflow/signoff.py`` registers the subject types with their callbacks).
"""


def init_app(app):
    from flask_babel import lazy_gettext as _l

    from office.audit import labels as audit_labels
    from office.docflow import api, choices, demo, models, receiving, signoff, todo, views, words  # noqa: F401  (registers)
    from office.web import register_card, register_nav

    choices.register()
    app.register_blueprint(views.bp)
    audit_labels.register_actions("docflow", {**words.EVENTS, "unit_settings": _l("Unit settings changed")})
    audit_labels.register_object_types({"document": _l("Document"), "receipt": _l("Received document"),
                                        "document_attachment": _l("Attachment")})
    app.register_blueprint(api.bp)
    register_nav(app, "documents", _l("Documents"), "docflow.incoming", 30,
                 visible=lambda actor: actor.unit_id is not None)
    register_nav(app, "archive", _l("Archive"), "docflow.archive", 70,
                 visible=lambda actor: actor.unit_id is not None)
    register_card(app, "documents", title=_l("Open incoming documents of my unit"), order=30,
                  count=receiving.open_count, endpoint="docflow.incoming")
    from office.org.paths import register_path_copies

    register_path_copies(models.Document.path, models.Receipt.path, models.ArchiveRecord.path)
