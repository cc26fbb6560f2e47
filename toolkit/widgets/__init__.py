"""JupyterLab widgets over the toolkit's functions: explore, edit metadata and other fields, detach, audit.

Example::

    import toolkit
    from toolkit.widgets import ChangeEditor, SourceExplorer, MetadataEditor, app
    session = toolkit.connect()
    app(session)                                   # all of them in tabs
    explorer = SourceExplorer(session); explorer   # or one at a time
    MetadataEditor(session, explorer)
    ChangeEditor(session, explorer)                # amount, owner, metadata, mandate, source order

The widgets hold no business logic: they call load_sources, plan_metadata, plan_update, plan_detach, apply,
undo and audit_receivers, and run long work in a worker thread with progress and Cancel.
"""

from toolkit.widgets.app import ToolkitApp, app
from toolkit.widgets.audit_view import AuditView
from toolkit.widgets.change_editor import ChangeEditor
from toolkit.widgets.detach_panel import DetachPanel
from toolkit.widgets.explorer import SourceExplorer
from toolkit.widgets.metadata_editor import MetadataEditor

__all__ = [
    "AuditView",
    "ChangeEditor",
    "DetachPanel",
    "MetadataEditor",
    "SourceExplorer",
    "ToolkitApp",
    "app",
]
