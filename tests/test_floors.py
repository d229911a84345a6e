"""The floors hold: imports go one way (README.md, "Architecture"). See tests/support/floors.py."""

from tests.support import floors


def test_no_two_capabilities_import_each_other():
    assert floors.mutual_pairs(floors.imports()) == []


def test_services_import_only_capabilities_below_them():
    assert floors.service_cycles(floors.imports()) == []


def test_ground_floor_and_models_import_no_capability():
    assert floors.breaches(floors.imports()) == []


def test_the_checker_sees_a_breach(tmp_path):
    """The checker itself: a made-up tree with a mutual pair, a service cycle and a ground-floor
    module that reaches up is reported as such."""
    for name, text in {
        "clock.py": "from server.inspections import service\n",
        "models/a.py": "from server.models.b import B\n",
        "inspections/service.py": "def f():\n    from server.evidence import service\n",
        "evidence/service.py": "from server.inspections.service import f\n",
        "evidence/routes.py": "",
    }.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    found = floors.imports(tmp_path)
    assert [(i.source, i.target) for i in found if i.source == "clock.py"] == [
        ("clock.py", "server.inspections"), ("clock.py", "server.inspections.service")]
    assert floors.mutual_pairs(found) == [("evidence", "inspections")]
    assert floors.service_cycles(found)
    assert any("ground floor" in line for line in floors.breaches(found))
