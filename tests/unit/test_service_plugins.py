"""Service plugins load from entry points, in the configured order, with clear errors."""

from __future__ import annotations

from importlib.metadata import EntryPoint

import pytest

from neutrino.domain.config import DomainConfig
from neutrino.entrypoints import LoadError
from neutrino.plugins import api
from neutrino.plugins.router import RouterPlugin

pytestmark = pytest.mark.unit


class First(api.ServicePlugin):
    pass


class NotAPlugin:
    pass


def _source(group):  # type: ignore[no-untyped-def]
    found = list(api.installed_entry_points(group))
    if group == api.GROUP:
        found += [
            EntryPoint("first", f"{__name__}:First", group),
            EntryPoint("stranger", f"{__name__}:NotAPlugin", group),
            EntryPoint("broken", "neutrino.no_such_module:X", group),
        ]
    return found


def test_configured_order_and_names():
    plugins = api.load_service_plugins(["first", "router"], DomainConfig(), source=_source)
    assert [p.name for p in plugins] == ["first", "router"]
    assert isinstance(plugins[1], RouterPlugin)


def test_router_plugin_is_installed_by_default():
    [plugin] = api.load_service_plugins(["router"], DomainConfig())
    assert {e.alias for e in plugin.extensions} >= {"router", "ext-gw-mode", "extraroute"}
    assert [r.collection for r in plugin.resources()] == ["routers", "floatingips"]


@pytest.mark.parametrize(
    "names, message",
    [
        (["nope"], r"unknown service plugin 'nope' \(installed: .*router"),
        (["router", "router"], "service plugin 'router' is configured twice"),
        (["stranger"], "'stranger' is not a neutrino.plugins.api.ServicePlugin"),
        (["broken"], "service plugin 'broken' cannot be loaded"),
    ],
)
def test_bad_plugin_configuration(names, message):
    with pytest.raises(LoadError, match=message):
        api.load_service_plugins(names, DomainConfig(), source=_source)
