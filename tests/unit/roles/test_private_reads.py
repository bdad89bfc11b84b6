"""No role reads another role's private variables: a `__<role>_` name belongs to that role (its vars, its
set_fact, its register), and what the other roles need of the osdeploy role is the documented fact
`osdeploy_host` (roles/osdeploy/tasks/platform.yml). The playbooks, which belong to no role, read none either.

A read is the name in a YAML key or string (Jinja, `when:`, a task's `vars:` that sets a role's parameter, a
hostvars key such as `map('extract', hostvars, '__compute_host_name')`) or in a template, outside comments.
The reads still left (issue 58) are listed with their counts: the list only shrinks, and a listed read that
is gone fails too, so that the list stays what the files hold.
"""
import collections
import glob
import os
import re

import yaml

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
ROLES = sorted(os.path.basename(p) for p in glob.glob(os.path.join(ROOT, "roles", "*")))
PRIVATE = re.compile(r"\b__(%s)_[a-z0-9_]+" % "|".join(ROLES))
JINJA_COMMENT = re.compile(r"\{#.*?#\}", re.S)
ROLE_PARTS = ("tasks", "handlers", "templates", "vars", "defaults", "meta")
# (file, variable): reads. Each goes with a later step of dev/design-phases.md (section 2.1):
LEFT = {
    # the handlers' "was it running" states: gone with service_units (step 4)
    ("roles/baseline/handlers/main.yml", "__osdeploy_was_running"): 6,
    ("roles/baseline/tasks/network_agent.yml", "__osdeploy_was_running"): 1,
    ("roles/baseline/tasks/neutron.yml", "__osdeploy_was_running"): 2,
    ("roles/compute/handlers/main.yml", "__osdeploy_was_running"): 2,
    ("roles/controller/handlers/main.yml", "__osdeploy_was_running"): 1,
    # preview_stop's parameters: documented options of platform preview_stop (step 6)
    ("roles/baseline/tasks/packages.yml", "__osdeploy_pending"): 1,
    ("roles/compute/tasks/packages.yml", "__osdeploy_pending"): 1,
    ("roles/controller/tasks/packages.yml", "__osdeploy_pending"): 1,
    ("roles/source/tasks/environment.yml", "__osdeploy_pending"): 1,
    ("roles/source/tasks/wheelhouse.yml", "__osdeploy_pending"): 1,
    ("roles/source/tasks/environment.yml", "__osdeploy_pending_more"): 1,
    ("roles/baseline/tasks/keystone.yml", "__osdeploy_preview_reason"): 1,
    ("roles/source/tasks/environment.yml", "__osdeploy_preview_reason"): 1,
    # the upgrade's canaries: inside the proof role (step 6)
    ("roles/controller/tasks/upgrade_report.yml", "__osdeploy_canaries"): 1,
    ("roles/controller/tasks/upgrade_watch.yml", "__osdeploy_canaries"): 1,
    ("roles/controller/tasks/upgrade_watch.yml", "__osdeploy_verify_result"): 2,
    # nova.conf's data: inside nova once conf_check and the nova.conf write move there (step 6)
    ("roles/compute/tasks/conf_check.yml", "__nova_conf_secret_options"): 1,
    ("roles/compute/tasks/config.yml", "__nova_conf_secret_options"): 1,
    ("roles/controller/tasks/conf_check.yml", "__nova_conf_secret_options"): 1,
    ("roles/controller/tasks/config.yml", "__nova_conf_secret_options"): 1,
    ("roles/compute/tasks/conf_check.yml", "__nova_python_package"): 1,
    ("roles/controller/tasks/conf_check.yml", "__nova_python_package"): 1,
    ("roles/compute/vars/main.yml", "__nova_conf_common"): 1,
    ("roles/controller/vars/main.yml", "__nova_conf_common"): 1,
    # the source role's registered result: gone with conf_check after a source install (step 5)
    ("roles/compute/tasks/source.yml", "__source_venv_result"): 1,
    ("roles/controller/tasks/source.yml", "__source_venv_result"): 1,
    # the compute hosts' names in Nova, set by compute validate: nova_host_name through hostvars once the
    # proof gathers the computes' facts and sees the nova role's default (step 7)
    ("playbooks/verify.yml", "__compute_host_name"): 1,
    ("roles/osdeploy/tasks/verify_cloud.yml", "__compute_host_name"): 2,
    ("roles/osdeploy/tasks/verify_server.yml", "__compute_host_name"): 1,
}


def names(text):
    return [m.group(0) for m in PRIVATE.finditer(text)]


def yaml_names(node):
    """Private names in a YAML document's keys and strings (its comments are not in the document)."""
    if isinstance(node, dict):
        return [n for key, value in node.items() for n in yaml_names(key) + yaml_names(value)]
    if isinstance(node, list):
        return [n for item in node for n in yaml_names(item)]
    return names(node) if isinstance(node, str) else []


def own_names(node):
    """What a playbook sets itself (register, vars, set_fact): its own variables, whatever their prefix."""
    found = set()
    if isinstance(node, dict):
        if isinstance(node.get("register"), str):
            found.add(node["register"])
        for key in ("vars", "ansible.builtin.set_fact", "set_fact"):
            if isinstance(node.get(key), dict):
                found.update(node[key])
        for value in node.values():
            found |= own_names(value)
    elif isinstance(node, list):
        for item in node:
            found |= own_names(item)
    return found


def file_reads(path, owner):
    """{variable: reads} of the other roles' private variables in one file."""
    with open(path) as f:
        text = f.read()
    if path.endswith((".yml", ".yaml")):
        document = yaml.safe_load(text)
        found = yaml_names(document)
        mine = own_names(document) if owner is None else set()
    else:
        found, mine = names(JINJA_COMMENT.sub("", text)), set()
    return collections.Counter(n for n in found if PRIVATE.match(n).group(1) != owner and n not in mine)


def reads():
    """{(file, variable): reads} over the roles and the playbooks."""
    paths = [(p, None) for p in glob.glob(os.path.join(ROOT, "playbooks", "*.yml")) + [os.path.join(ROOT, "site.yml")]]
    for role in ROLES:
        for part in ROLE_PARTS:
            paths += [(p, role) for p in glob.glob(os.path.join(ROOT, "roles", role, part, "**", "*"), recursive=True)
                      if os.path.isfile(p)]
    found = {}
    for path, owner in sorted(paths):
        for name, count in file_reads(path, owner).items():
            found[(os.path.relpath(path, ROOT), name)] = count
    return found


def test_no_role_reads_another_roles_private_variables_beyond_the_list():
    found = reads()
    new = {key: count for key, count in found.items() if count > LEFT.get(key, 0)}
    assert not new, (
        "another role's private variables read (file, variable: reads): %s. Read osdeploy_host (the osdeploy "
        "role's documented fact) or a public variable instead" % sorted(new.items()))


def test_the_list_of_reads_left_is_what_the_files_hold():
    found = reads()
    gone = {key: count for key, count in LEFT.items() if found.get(key, 0) < count}
    assert not gone, "reads listed in LEFT that are gone (lower the count or remove the line): %s" % {
        key: "listed %d, found %d" % (count, found.get(key, 0)) for key, count in gone.items()}


def test_the_reads_are_found(tmp_path):
    """The checks above can fail: a read in Jinja, in a hostvars key, in a task's vars and in a template counts;
    a comment, the role's own variable and a playbook's own variable do not."""
    tasks = tmp_path / "tasks.yml"
    tasks.write_text(
        "# __osdeploy_release in a comment\n"
        "- name: Read {{ __osdeploy_release.name }}\n"
        "  ansible.builtin.debug:\n"
        "    msg: \"{{ groups.all | map('extract', hostvars, '__compute_host_name') | list }}\"\n"
        "  vars:\n"
        "    __osdeploy_pending: \"{{ __controller_packages }}\"\n"
        "  when: __nova_python is defined\n")
    assert file_reads(str(tasks), "controller") == {
        "__osdeploy_release": 1, "__compute_host_name": 1, "__osdeploy_pending": 1, "__nova_python": 1}
    template = tmp_path / "x.j2"
    template.write_text("{# __osdeploy_venv #}ca = {{ __osdeploy_tls_ca_file }} {{ __baseline_port }}\n")
    assert file_reads(str(template), "baseline") == {"__osdeploy_tls_ca_file": 1}
    playbook = tmp_path / "play.yml"
    playbook.write_text(
        "- hosts: all\n"
        "  vars:\n"
        "    __controller_group: x\n"
        "  tasks:\n"
        "    - ansible.builtin.command: 'true'\n"
        "      register: __osdeploy_secrets\n"
        "    - ansible.builtin.debug:\n"
        "        msg: \"{{ __osdeploy_secrets.rc }} {{ __controller_group }} {{ __osdeploy_release }}\"\n")
    assert file_reads(str(playbook), None) == {"__osdeploy_release": 1}
