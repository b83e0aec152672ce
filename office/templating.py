"""Templates compiled once per language, with their constant texts already translated.

A page's template says ``{{ _('Save') }}``; Jinja's i18n extension turns that into three nested
context calls and Flask-Babel's lookup of the request's translations (about 19 µs each, 50-70 of
them on a record page). Here each language gets its own overlay of the application's Jinja
environment, with its own cache of compiled templates; when an overlay compiles a template it
replaces every ``_('constant')`` / ``gettext('constant', name=value)`` call by the translated
constant, formatted exactly as the extension formats it at run time (marked safe where
autoescaping is on, then ``%`` with the given variables, each escaped). Calls whose text is not a
constant (``_(label)``), ``ngettext`` and anything outside a request (jobs rendering a PDF) keep the
run-time lookup, so nothing renders differently: only the lookups of constant texts are gone.

``render_template`` and the templates' own ``extends`` / ``include`` / ``import`` reach the overlay
of the current locale (``flask_babel.get_locale()``, so ``force_locale`` is honoured too).
"""

from __future__ import annotations

import threading

import flask_babel
from flask import has_request_context
from flask.templating import Environment
from jinja2 import nodes
from jinja2.visitor import NodeTransformer

_GETTEXT_NAMES = frozenset({"_", "gettext"})


class _TranslatedConstants(NodeTransformer):
    """Replace ``_('text', name=value, ...)`` by the translation of 'text' formatted as Jinja's
    new-style gettext formats it (``Markup(translated) % {name: value}`` under autoescape)."""

    def __init__(self, translate):
        self.translate = translate

    def visit_Call(self, node: nodes.Call):
        node = self.generic_visit(node)
        if not (isinstance(node.node, nodes.Name) and node.node.name in _GETTEXT_NAMES
                and len(node.args) == 1 and isinstance(node.args[0], nodes.Const)
                and isinstance(node.args[0].value, str) and node.dyn_args is None and node.dyn_kwargs is None):
            return node
        translated = self.translate(node.args[0].value)
        lineno = node.lineno
        if not node.kwargs:
            try:
                text = translated % {}  # what the run-time call does with no variables ("%%" -> "%")
            except (KeyError, ValueError, TypeError):
                return node  # would fail at run time: leave it to fail there, as before
            return nodes.MarkSafeIfAutoescape(nodes.Const(text, lineno=lineno), lineno=lineno)
        values = nodes.Dict([nodes.Pair(nodes.Const(k.key, lineno=lineno), k.value, lineno=lineno)
                             for k in node.kwargs], lineno=lineno)
        return nodes.Mod(nodes.MarkSafeIfAutoescape(nodes.Const(translated, lineno=lineno), lineno=lineno),
                         values, lineno=lineno)


class OfficeEnvironment(Environment):
    """Flask's template environment, handing each template request to the current language's
    overlay (created on first use, kept for the process)."""

    locale_name: str | None = None

    def __init__(self, app, **options):
        super().__init__(app, **options)
        self._overlays: dict[str, OfficeEnvironment] = {}
        self._overlay_lock = threading.Lock()

    def _current(self) -> Environment:
        if self.locale_name is not None or not has_request_context():
            return self
        locale = flask_babel.get_locale()
        if locale is None:
            return self
        name = str(locale)
        env = self._overlays.get(name)
        if env is None:
            with self._overlay_lock:
                env = self._overlays.get(name)
                if env is None:
                    env = self.overlay(cache_size=getattr(self.cache, "capacity", 400))
                    env.locale_name, env._overlays = name, {}
                    self._overlays[name] = env
        return env

    def get_template(self, name, parent=None, globals=None):
        env = self._current()
        if env is self:
            return super().get_template(name, parent, globals)
        return env.get_template(name, parent, globals)

    def select_template(self, names, parent=None, globals=None):
        env = self._current()
        if env is self:
            return super().select_template(names, parent, globals)
        return env.select_template(names, parent, globals)

    def _parse(self, source, name, filename):
        tree = super()._parse(source, name, filename)
        if self.locale_name is None:
            return tree
        locale = flask_babel.get_locale()
        if locale is None or str(locale) != self.locale_name:
            return tree  # not under its own language (cannot happen through _current): run-time lookups
        return _TranslatedConstants(flask_babel.get_translations().ugettext).visit(tree)
