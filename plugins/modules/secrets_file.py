#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: osdeploy.nova contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: secrets_file
short_description: A file of random values for every secret the collection's roles need
version_added: 0.1.0
description:
  - Writes the inventory's secrets file, a YAML mapping of variable names to values (such as
    C(inventories/mycloud/group_vars/all/secrets.yml)), with a random value for each secret of the roles that the
    file lacks. What C(kolla-genpwd) is for kolla-ansible.
  - A value already in the file is never changed, whatever it holds, and lines the module does not know are kept.
    New lines are added at the end of the file, each value a JSON string (which YAML reads back exactly).
  - Each generated value passes the rules the roles apply to that secret (RabbitMQ's password holds no C(/);
    Keystone's database password only letters, digits and C(-_.~)) and has at least three special characters.
    None holds a brace, which Ansible would read as a template. An existing value that breaks a rule is kept, with
    a warning that names the variable and the rule; the roles refuse it when they run.
  - The file is written atomically (a temporary file in the same folder, then a rename) with mode C(0600). A
    missing parent folder is made with mode C(0700). An existing file readable or writable by others gets
    mode C(0600), which counts as a change.
  - With O(vault_password_file), the file is encrypted with C(ansible-vault) (the command is looked for on the
    PATH and beside the Python that runs the module).
  - No value appears in the result, a diff, a warning or an error.
author:
  - osdeploy.nova developers (@osdeploy)
options:
  path:
    description:
      - The secrets file, in YAML. A missing file is made; an existing one must be a mapping of names to strings.
      - An absolute path (a module does not run where ansible-playbook was started, so a relative path would
        name another file).
    type: path
    required: true
  names:
    description:
      - The secrets to make sure the file has. A name that is not a secret of the roles is refused.
      - By default, every secret of the roles, which RV(added) and RV(kept) name after a first run.
    type: list
    elements: str
  length:
    description:
      - The length of each generated value, 16 or more. Values already in the file keep theirs.
    type: int
    default: 32
  vault_password_file:
    description:
      - The file is encrypted with ansible-vault, with the password in this file (or printed by it, when it is
        an executable script, as ansible-vault does). An absolute path.
      - An existing file must then be encrypted with that password; a plain one is refused (encrypt it first with
        C(ansible-vault encrypt), or leave this option out). Without this option, an encrypted file is refused.
      - Adding a secret encrypts the whole file again, under the vault ID C(osdeploy_secrets) (its first line is
        C($ANSIBLE_VAULT;1.2;AES256;osdeploy_secrets)), so that a vault password file that C(ansible.cfg) or the
        environment names too does not leave ansible-vault two IDs to choose from. A run that adds nothing leaves
        the file as it is. C(ansible-playbook --vault-password-file FILE) reads it whatever the ID.
    type: path
attributes:
  check_mode:
    support: full
    description: Predicts C(changed), RV(added) and RV(kept) exactly and writes nothing.
  diff_mode:
    support: full
    description: Shows the names of the file before and after, every value masked as C(********).
requirements:
  - PyYAML on the host that runs the module (Ansible's controller has it).
  - With O(vault_password_file), the C(ansible-vault) command.
notes:
  - Run it where the inventory is, usually on the Ansible controller (the playbook C(osdeploy.nova.secrets) does).
  - Ansible reads the encrypted file with the same password (C(--vault-password-file) of C(ansible-playbook)).
seealso:
  - name: Ansible Vault
    description: Encrypting the file, and running playbooks with it.
    link: https://docs.ansible.com/ansible/latest/vault_guide/index.html
"""

EXAMPLES = r"""
- name: Every secret of the roles, in the inventory's group_vars
  osdeploy.nova.secrets_file:
    path: inventories/mycloud/group_vars/all/secrets.yml
  delegate_to: localhost
  run_once: true

- name: The same file, encrypted with Ansible Vault
  osdeploy.nova.secrets_file:
    path: inventories/mycloud/group_vars/all/secrets.yml
    vault_password_file: ~/.config/osdeploy/mycloud.vault-pass
  delegate_to: localhost
  run_once: true

- name: Only two of them, longer
  osdeploy.nova.secrets_file:
    path: /etc/osdeploy/secrets.yml
    names: [nova_db_password, nova_keystone_password]
    length: 48
"""

RETURN = r"""
path:
  description: The secrets file.
  returned: always
  type: str
  sample: inventories/mycloud/group_vars/all/secrets.yml
added:
  description: The names of the secrets added (in check mode, that would be added), in the catalogue's order.
  returned: success
  type: list
  elements: str
  sample: [baseline_admin_password, osdeploy_rabbitmq_password]
kept:
  description: The names the file already held, in its order; their values are unchanged.
  returned: success
  type: list
  elements: str
  sample: [nova_db_password]
encrypted:
  description: Whether the file is (or would be) encrypted with ansible-vault.
  returned: success
  type: bool
  sample: false
"""

import os
import stat
import sys

from ansible.module_utils.common.yaml import HAS_YAML, yaml_load

from ansible_collections.osdeploy.nova.plugins.module_utils import base
from ansible_collections.osdeploy.nova.plugins.module_utils import secrets
from ansible_collections.osdeploy.nova.plugins.module_utils.credentials import MASK

VAULT_HEADER = "$ANSIBLE_VAULT;"
VAULT_ID = "osdeploy_secrets"
HEADER = ("# The secrets of the osdeploy.nova roles, made by osdeploy.nova.secrets_file. A value here is never\n"
          "# changed by it; a new secret of a later version is added at the end. Mode 0600: keep it private\n"
          "# (`ansible-vault encrypt` it, and run ansible-playbook with --vault-password-file).\n")


class SecretsFile(base.OsdeployModule):
    argument_spec = dict(
        path=dict(type="path", required=True),
        names=dict(type="list", elements="str"),
        length=dict(type="int", default=secrets.DEFAULT_LENGTH),
        vault_password_file=dict(type="path", no_log=False),
    )
    module_kwargs = dict(supports_check_mode=True)
    required_libraries = ((HAS_YAML, "PyYAML (Debian: python3-yaml)", None),)

    # -- options ---------------------------------------------------------------
    def options(self):
        p = self.params
        if p["length"] < secrets.MIN_LENGTH:
            self.fail("length: %d is too short for a secret; give %d or more (the default is %d)"
                      % (p["length"], secrets.MIN_LENGTH, secrets.DEFAULT_LENGTH))
        if p["names"] is not None:
            unknown = secrets.unknown_names(p["names"])
            if unknown:
                self.fail("names: %s %s not a secret of the roles; the secrets are %s"
                          % (", ".join(unknown), "is" if len(unknown) == 1 else "are",
                             ", ".join(secret.name for secret in secrets.CATALOGUE)))
        for option in ("path", "vault_password_file"):
            # a module does not run where ansible-playbook was started (locally it runs in the playbook's
            # folder): a relative path would land somewhere the operator did not mean
            if p[option] is not None and not os.path.isabs(p[option]):
                self.fail("%s: %s is a relative path; give an absolute one (the playbook osdeploy.nova.secrets "
                          "makes it absolute for you)" % (option, p[option]))
        if os.path.isdir(p["path"]):
            self.fail("path: %s is a directory; give the secrets file itself, such as %s"
                      % (p["path"], os.path.join(p["path"], "secrets.yml")))
        vault = None
        if p["vault_password_file"] is not None:
            if not os.path.isfile(p["vault_password_file"]):
                self.fail("vault_password_file: there is no file at %s; give the file that holds the vault password"
                          % p["vault_password_file"])
            # beside this Python too: Ansible in a virtual environment is often run by its path, not the PATH
            vault = self.module.get_bin_path("ansible-vault", opt_dirs=[os.path.dirname(sys.executable)])
            if vault is None:
                self.fail("vault_password_file: the ansible-vault command is not on this host; install Ansible "
                          "where the module runs, or leave vault_password_file out")
        return vault

    # -- reading -----------------------------------------------------------------
    def vault(self, vault, command, data=None, target="-"):
        """Run ansible-vault encrypt|decrypt with the password file; its stdout."""
        # Under a vault ID of its own: a vault password file that ansible.cfg or the environment also names
        # (ANSIBLE_VAULT_PASSWORD_FILE) would otherwise make two IDs `default`, and ansible-vault refuses to
        # choose one to encrypt with. Ansible decrypts with any password it is given, whatever the ID.
        args = [vault, command, "--vault-id", "%s@%s" % (VAULT_ID, self.params["vault_password_file"]),
                "--output", "-"]
        if command == "encrypt":
            args += ["--encrypt-vault-id", VAULT_ID]
        if target != "-":
            args.append(target)
        return self.run_command(args, data=data, binary_data=True,
                                what="vault_password_file: ansible-vault %s of %s with the password in %s"
                                % (command, self.params["path"], self.params["vault_password_file"]))[1]

    def read(self, vault):
        """(the file's plain text or None when it is missing, whether it is encrypted)."""
        path = self.params["path"]
        try:
            raw = self.read_file(path)
        except EnvironmentError as e:
            self.fail("path: cannot read %s: %s" % (path, e.strerror or e))
        if raw is None:
            return None, vault is not None
        encrypted = raw.startswith(VAULT_HEADER.encode("ascii"))
        if encrypted and vault is None:
            self.fail("path: %s is encrypted with ansible-vault; give its password file in vault_password_file "
                      "(-e osdeploy_secrets_vault_password_file=FILE with the playbook osdeploy.nova.secrets)" % path)
        if not encrypted and vault is not None:
            self.fail("vault_password_file: %s is not encrypted; encrypt it first (ansible-vault encrypt "
                      "--vault-password-file %s %s) or leave vault_password_file out to keep it plain"
                      % (path, self.params["vault_password_file"], path))
        if encrypted:
            return self.vault(vault, "decrypt", target=path), True
        try:
            return raw.decode("utf-8"), False
        except UnicodeDecodeError:
            self.fail("path: %s is not a text file in UTF-8; give a YAML file of name: value lines" % path)

    def parse(self, text):
        """The mapping of the file's text; fails, naming keys and never values, when it is not one of strings."""
        path = self.params["path"]
        try:
            data = yaml_load(text)
        except Exception as e:  # a YAML error quotes the line, which may hold a secret
            mark = getattr(e, "problem_mark", None)
            self.fail("path: %s is not valid YAML%s; fix it (a file of name: value lines) or give another path"
                      % (path, " (line %d)" % (mark.line + 1) if mark is not None else ""))
        if data is None:
            return {}
        if not isinstance(data, dict):
            self.fail("path: %s holds a YAML %s, not a mapping of name: value lines; give a secrets file"
                      % (path, type(data).__name__))
        bad = [str(key) for key, value in data.items() if not isinstance(key, str) or not isinstance(value, str)]
        if bad:
            self.fail("path: in %s, %s %s no string value; give each a quoted string (or remove a secret's line to "
                      "have one made)" % (path, ", ".join(bad), "has" if len(bad) == 1 else "have"))
        return data

    # -- writing -------------------------------------------------------------------
    @staticmethod
    def render(text, existing, added):
        """The new plain text: the old one byte for byte with the new lines after it; the whole mapping written
        anew only when the old text is not block YAML that lines can be appended to (a flow mapping)."""
        lines = "".join(secrets.yaml_line(name, value) + "\n" for name, value in added.items())
        if text is None or not text.strip():
            return HEADER + lines
        new = text + ("" if text.endswith("\n") else "\n") + lines
        try:
            if yaml_load(new) == secrets.merged(existing, added):
                return new
        except Exception:  # not YAML once appended to: written anew below
            pass
        return HEADER + "".join(secrets.yaml_line(name, value) + "\n"
                                for name, value in secrets.merged(existing, added).items())

    # -- the run -------------------------------------------------------------------
    def run(self):
        p = self.params
        vault = self.options()
        text, encrypted = self.read(vault)
        existing = self.parse(text) if text is not None else {}
        # masked wherever they could leak (an error of ansible-vault, say), though no value is ever put in output
        self.add_secrets(existing.values(), no_log=True)
        for problem in secrets.problems(existing):
            self.warn("%s (in %s; it is kept: change it there, or remove its line to have a new one made)"
                      % (problem, p["path"]))

        added = secrets.missing(existing, p["names"], p["length"])
        self.add_secrets(added.values(), no_log=True)
        path_mode = stat.S_IMODE(os.stat(p["path"]).st_mode) if text is not None else None
        fix_mode = path_mode is not None and path_mode & ~0o600 != 0
        changed = bool(added) or fix_mode
        result = dict(path=p["path"], added=list(added), kept=list(existing), encrypted=encrypted, changed=changed)
        if self.diff_mode:
            result["diff"] = dict(
                before_header=p["path"] if text is not None else "/dev/null", after_header=p["path"],
                before="".join("%s: %s\n" % (name, MASK) for name in existing) if text is not None else "",
                after="".join("%s: %s\n" % (name, MASK) for name in list(existing) + list(added)))
            if fix_mode:
                result["diff"]["before"] += "# mode %04o\n" % path_mode
                result["diff"]["after"] += "# mode 0600\n"
        if self.check_mode:
            return result
        if added:
            new = self.render(text, existing, added).encode("utf-8")
            # mode 0600 from the first byte, in folders only its owner can enter
            self.write_file(p["path"], self.vault(vault, "encrypt", data=new) if encrypted else new, 0o600,
                            folder_mode=0o700)
        elif fix_mode:
            try:
                os.chmod(p["path"], 0o600)
            except EnvironmentError as e:
                self.fail("path: could not set mode 0600 on %s: %s" % (p["path"], e.strerror or e))
        return result


def main():
    base.main(SecretsFile)


if __name__ == "__main__":
    main()
