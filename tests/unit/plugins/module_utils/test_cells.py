"""cells: the decisions of the cell_v2 module (what has to change) and the masking of what it returns."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.osdeploy.nova.plugins.module_utils import cells as C
from ansible_collections.osdeploy.nova.plugins.module_utils.credentials import db_url, mask_text, transport_url

PW = "n0va$pw@x/%y"
DB1 = db_url("nova", PW, "ctl", "nova")
DB0 = db_url("nova", PW, "ctl", "nova_cell0")
MQ = transport_url("openstack", "rabbit:pw", ["ctl"])


def cell(name, uuid, mq=MQ, db=DB1, hosts=()):
    return dict(id=hash(uuid) % 1000, uuid=uuid, name=name, transport_url=mq, database_connection=db,
                disabled=False, hosts=list(hosts))


CELL0 = cell("cell0", C.CELL0_UUID, mq="none:///", db=DB0)
CELL1 = cell("cell1", "u-1")


# ----------------------------------------------------------------- schema versions

def test_revision_file_parsing_and_heads():
    files = [
        "revision = 'a1'\ndown_revision = None\n",
        'revision = "b2"\ndown_revision = "a1"\nbranch_labels = None\n',
        "revision = 'c3'\ndown_revision = ('b2', 'x9')\n",
        "# no revision here\n",
    ]
    parsed = [C.parse_revision_file(t) for t in files]
    assert parsed[:3] == [("a1", ()), ("b2", ("a1",)), ("c3", ("b2", "x9"))]
    assert parsed[3] is None
    assert C.heads_of(parsed[:3]) == frozenset(["c3"])
    assert C.heads_of(parsed[:2]) == frozenset(["b2"])


def test_migration_heads_reads_a_versions_folder(tmp_path):
    (tmp_path / "a1_init.py").write_text("revision = 'a1'\ndown_revision = None\n")
    (tmp_path / "b2_next.py").write_text("revision = 'b2'\ndown_revision = 'a1'\n")
    (tmp_path / "__init__.py").write_text("revision = 'zz'\n")
    assert C.migration_heads(str(tmp_path)) == frozenset(["b2"])
    assert C.migration_heads(str(tmp_path / "missing")) == frozenset()


@pytest.mark.parametrize("version, heads, expected", [
    (dict(alembic=None, legacy=None, tables=0), {"b2"}, True),          # empty database
    (dict(alembic=None, legacy=402, tables=200), {"b2"}, True),         # still sqlalchemy-migrate
    (dict(alembic=["a1"], legacy=None, tables=50), {"b2"}, True),       # behind
    (dict(alembic=["b2"], legacy=None, tables=50), {"b2"}, False),      # at head
    (dict(alembic=["b2"], legacy=None, tables=50), frozenset(), None),  # nova not found: unknown
])
def test_sync_needed(version, heads, expected):
    assert C.sync_needed(version, heads) is expected


def test_version_label():
    assert C.version_label(dict(alembic=["b2"], legacy=402)) == "b2"
    assert C.version_label(dict(alembic=None, legacy=402)) == "legacy 402"
    assert C.version_label(dict(alembic=[], legacy=None)) is None


# ----------------------------------------------------------------- URLs

def test_cell0_url_is_derived_keeping_the_encoded_password():
    assert C.derive_cell0_connection(DB1) == DB0
    assert C.derive_cell0_connection(db_url("nova", PW, "ctl", "nova", query="charset=utf8")) == \
        db_url("nova", PW, "ctl", "nova_cell0", query="charset=utf8")
    assert C.derive_cell0_connection(None) is None
    assert C.derive_cell0_connection("mysql+pymysql://nova:pw@ctl/") is None


def test_template_urls_are_expanded_like_nova():
    template = "{scheme}://{username}:{password}@{hostname}:{port}/{path}_cell0"
    assert C.format_url(template, "mysql+pymysql://nova:secret@db:3307/nova") == \
        "mysql+pymysql://nova:secret@db:3307/nova_cell0"
    multi = "rabbit://u1:p1@h1:5672,u2:p2@h2:5672/"
    assert C.format_url("rabbit://{username2}:{password2}@{hostname2}:{port2}/", multi) == "rabbit://u2:p2@h2:5672/"
    assert C.format_url(DB1, "whatever") == DB1
    assert C.format_url(template, None) == template


def test_url_problem_spots_what_sqlalchemy_cannot_parse():
    assert C.url_problem(DB1) is None and C.url_problem(MQ) is None
    assert "unencoded '@'" in C.url_problem("mysql+pymysql://nova:n0va$pw@x@ctl/nova_cell0")


def test_url_secrets_finds_raw_and_unquoted_passwords():
    found = C.url_secrets([DB1, MQ, None, "none:///"])
    assert PW in found and "rabbit:pw" in found
    assert "n0va%24pw%40x%2F%25y" in found


# ----------------------------------------------------------------- masking

def test_masked_cell_hides_every_password():
    broken = "mysql+pymysql://nova:n0va$pw@x@ctl/nova_cell0"  # what nova-manage's own map_cell0 writes
    shown = C.masked_cells([CELL0, CELL1, cell("cellB", "u-b", db=broken)])
    text = repr(shown)
    for secret in (PW, "n0va%24pw%40x%2F%25y", "rabbit:pw", "rabbit%3Apw", "pw@x", "x@ctl"):
        assert secret not in text
    assert shown[1] == dict(uuid="u-1", name="cell1", transport_url="rabbit://openstack:********@ctl:5672/",
                            database_connection="mysql+pymysql://nova:********@ctl/nova", disabled=False, hosts=[])
    assert shown[2]["database_connection"] == "mysql+pymysql://nova:********@ctl/nova_cell0"
    assert "id" not in shown[0]


def test_urls_nova_manage_broke_are_masked_whole():
    # nova-manage's map_cell0 default unquotes the URL: '@' and '/' of the password come back raw
    broken = "mysql+pymysql://nova:n0va$pw@x/%y@ctl:3306/nova_cell0"
    assert C.url_problem(broken)
    shown = C.masked_cell(dict(CELL0, database_connection=broken))["database_connection"]
    assert shown == "mysql+pymysql://nova:********@ctl:3306/nova_cell0"
    # the same password known from the config masks it in free text too
    text = "cannot use %s: error" % broken
    assert PW not in mask_text(text, C.url_secrets([DB1])) and "x/%y" not in mask_text(text, C.url_secrets([DB1]))


def test_mask_text_with_url_secrets_covers_bare_passwords_in_command_output():
    out = "Error: (pymysql.err.OperationalError) (1045, \"Access denied for user 'nova' using password n0va$pw@x/%y\")"
    masked = mask_text(out, C.url_secrets([DB1]))
    assert PW not in masked and "********" in masked


# ----------------------------------------------------------------- the cell plan

def test_missing_cell_is_created_with_both_urls():
    plan = C.plan_cell([CELL0], "cell1", "present", MQ, DB1)
    assert plan.op == "create" and plan.changed and plan.changes == ["create cell 'cell1'"]
    assert (plan.transport_url, plan.database_connection) == (MQ, DB1)


@pytest.mark.parametrize("mq, db, missing", [
    (None, DB1, "transport_url is required"),
    (MQ, None, "database_connection is required"),
    (None, None, "transport_url and database_connection are required"),
])
def test_creating_a_cell_needs_both_urls(mq, db, missing):
    plan = C.plan_cell([CELL0], "cell1", "present", mq, db)
    assert not plan.changed and "cell 'cell1' does not exist yet: %s to create it" % missing == plan.error


def test_converged_cell_needs_nothing_and_omitted_urls_are_not_managed():
    for mq, db in ((MQ, DB1), (None, None), (MQ, None), (None, DB1)):
        plan = C.plan_cell([CELL0, CELL1], "cell1", "present", mq, db)
        assert plan.op == "none" and not plan.changed and plan.cell is CELL1 and plan.error is None


def test_drifted_urls_are_updated_never_duplicated():
    rotated = transport_url("openstack", "new", ["ctl"])
    plan = C.plan_cell([CELL0, CELL1], "cell1", "present", rotated, DB1)
    assert plan.op == "update" and plan.targets == [CELL1]
    assert plan.changes == ["update transport_url of cell 'cell1' (u-1)"]
    # both values handed to update_cell: nova-manage would replace a missing one with the config's
    assert (plan.transport_url, plan.database_connection) == (rotated, DB1)
    moved = db_url("nova", PW, "db2", "nova")
    plan = C.plan_cell([CELL0, CELL1], "cell1", "present", None, moved)
    assert plan.op == "update" and (plan.transport_url, plan.database_connection) == (MQ, moved)
    assert plan.changes == ["update database_connection of cell 'cell1' (u-1)"]


def test_duplicate_names_fail_instead_of_guessing():
    dup = cell("cell1", "u-2", mq="rabbit://o:p@other:5672/", db="mysql+pymysql://n:p@other/nova")
    cells = [CELL0, CELL1, dup]
    assert C.duplicate_names(cells) == {"cell1": ["u-1", "u-2"]}
    plan = C.plan_cell(cells, "cell1", "present", MQ, DB1)
    assert not plan.changed
    assert plan.error.startswith("2 cell mappings are named 'cell1' (u-1, u-2)")
    assert "delete_cell" in plan.error
    # absent removes every cell of that name
    plan = C.plan_cell(cells, "cell1", "absent")
    assert plan.op == "delete" and plan.targets == [CELL1, dup]


def test_urls_already_used_by_another_cell_are_refused_before_nova_manage():
    cells = [CELL0, CELL1]
    plan = C.plan_cell(cells, "cell2", "present", MQ, db_url("nova", PW, "ctl", "nova2"))
    assert not plan.changed and "transport_url rabbit://openstack:********@ctl:5672/ is already" in plan.error
    assert "rabbit:pw" not in plan.error
    plan = C.plan_cell(cells, "cell2", "present", "rabbit://o:p@h2:5672/", DB0)
    assert "database_connection" in plan.error and "cell 'cell0'" in plan.error and PW not in plan.error


def test_absent():
    assert C.plan_cell([CELL0, CELL1], "cell2", "absent").op == "none"
    plan = C.plan_cell([CELL0, CELL1], "cell1", "absent")
    assert plan.op == "delete" and plan.changes == ["delete cell 'cell1' (u-1)"]
    busy = cell("cell1", "u-1", hosts=["cmp1"])
    plan = C.plan_cell([CELL0, busy], "cell1", "absent")
    assert not plan.changed and "still has hosts mapped (cmp1)" in plan.error


def test_cell0_is_not_managed_as_a_named_cell():
    assert "action=map_cell0" in C.plan_cell([CELL0], "cell0", "present", MQ, DB1).error


def test_cell0_plan():
    assert C.plan_cell0([], DB0).op == "create"
    assert C.plan_cell0([], DB0).transport_url == "none:///"
    assert C.plan_cell0([CELL0, CELL1], DB0).op == "none"
    broken = dict(CELL0, database_connection="mysql+pymysql://nova:n0va$pw@x/%y@ctl/nova_cell0")
    plan = C.plan_cell0([broken, CELL1], DB0)
    assert plan.op == "update" and plan.database_connection == DB0 and plan.transport_url == "none:///"
    assert "update database_connection of cell 'cell0'" in plan.changes[0]
    assert "no database_connection for cell0" in C.plan_cell0([], None).error


# ----------------------------------------------------------------- discovery

def computes(nodes=None, services=()):
    return dict(nodes=dict(nodes or {}), services=set(services))


def test_discoverable_hosts_follow_novas_rules():
    data = {"u-1": computes({"a": False, "b": True, "c": False}, ["a", "b", "c", "d"]),
            "u-2": computes({"e": False}, ["e"])}
    # compute nodes not flagged mapped, minus hosts that already have a host mapping
    assert C.discoverable_hosts(data, mapped={"c"}) == ["a", "e"]
    # by service: every nova-compute service without a host mapping
    assert C.discoverable_hosts(data, mapped={"b", "c"}, by_service=True) == ["a", "d", "e"]
    assert C.discoverable_hosts({}, mapped=set()) == []


def test_waiting_for_says_what_each_host_lacks():
    data = {"u-1": computes({"a": False}, ["a", "half"])}
    missing = C.waiting_for(["a", "half", "ghost", "old"], data, mapped={"old"})
    assert missing == {"half": "nova-compute service registered, but no compute node record yet",
                       "ghost": "no nova-compute service registered"}
    assert C.waiting_for(["half"], data, mapped=set(), by_service=True) == {}


def test_created_and_collided_hosts_from_discover_output():
    ok = ("Found 2 cell mappings.\nSkipping cell0 since it does not contain hosts.\n"
          "Checking host mapping for compute host 'cmp1': 6f1c\n"
          "Creating host mapping for compute host 'cmp1': 6f1c\n"
          "Creating host mapping for service cmp2\n")
    assert C.created_hosts(ok) == ["cmp1", "cmp2"]
    assert not C.collided(ok)
    clash = ("Creating host mapping for compute host 'cmp3': 1\n"
             "ERROR: Duplicate host mapping was encountered. This command should be run once ... "
             "Error: Host 'cmp3' mapping already exists\n")
    assert C.created_hosts(clash) == []
    assert C.collided(clash)


def test_mapped_hosts_of_and_lock_name():
    assert C.mapped_hosts_of([CELL0, cell("cell1", "u", hosts=["a", "b"])]) == {"a", "b"}
    assert C.mapped_hosts_of(None) == set()
    assert C.lock_name("nova_api") == "osdeploy.nova.cell_v2.nova_api"
    assert len(C.lock_name("x" * 100)) == 64
