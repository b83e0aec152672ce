"""The forms service API in one place (the implementation is split by concern):

- ``catalogue``: data elements, value parsing, periods, versioned templates
- ``values``: the one value store (read, write with optimistic locking and history, prefill)
- ``shared``: shared dataset import
- ``tasks``: issuing, access, filling, checks, urging, workload meter
- ``review``: submit / approve / return through the approvals engine (subject ``form_submission``)
- ``admin``: catalogue administration (elements, templates from forms, JSON export/import)
- ``rollup``: aggregation in SQL, drill-down, completeness and timeliness
- ``excel``: download and upload of forms
"""

from office.forms.catalogue import (  # noqa: F401
    create_element,
    create_template,
    current_version,
    element_by_code,
    element_period,
    list_elements,
    list_templates,
    new_template_version,
    parse_value,
    previous_period,
)
from office.forms.excel import export as export_excel  # noqa: F401
from office.forms.excel import upload as upload_excel  # noqa: F401
from office.forms.review import approve, return_submission, submit  # noqa: F401
from office.forms.rollup import drilldown, rollup  # noqa: F401
from office.forms.shared import import_dataset, list_datasets  # noqa: F401
from office.forms.tasks import (  # noqa: F401
    check,
    children,
    form_view,
    get_submission,
    get_task,
    issue_task,
    list_tasks,
    may_fill,
    may_review,
    my_submissions,
    save,
    scope_path,
    to_review,
    urge_late,
    workload,
)
from office.forms.values import get_value, history, prefill, read_values, write_value  # noqa: F401
