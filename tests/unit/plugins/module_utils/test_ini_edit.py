"""ini_edit: parsing as oslo.config does, editing that keeps everything else byte for byte."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.osdeploy.nova.plugins.module_utils import ini_edit
from ansible_collections.osdeploy.nova.plugins.module_utils.ini_edit import IniError, apply_settings, parse

SAMPLE = """# nova.conf written by hand
; another comment style

[DEFAULT]
# The IP address of this host
#my_ip = <host_ipv4>
my_ip=192.0.2.2
state_path = /var/lib/nova

[database]
#connection = <None>
connection = sqlite:////var/lib/nova/novadb

[vnc]
enabled = true
"""


def edit_text(text, edits, **kwargs):
    return edit(text, edits, **kwargs)[0]


def edit(text, edits, **kwargs):
    doc = parse(text)
    changes = apply_settings(doc, edits, **kwargs)
    return doc.render(), changes


# ---------------------------------------------------------------- parsing


def test_render_of_parse_is_identical():
    for text in (SAMPLE, SAMPLE.replace("\n", "\r\n"), "[a]\nk = v", "", "\n\n# only comments\n"):
        assert parse(text).render() == text


def test_values_read_as_oslo_config_reads_them():
    doc = parse('[a]\nk1 = v1  \nk2: "quoted"\nk3 = \' x \'\nk4=a=b\nk5 = x # not a comment\n'
                "k6 = first\n  second\n\tthird\nk7 =\n[B]\nk8 : v : w\n")
    values = dict(((s, k), v) for s, k, _n, v in doc.options())
    assert values == {
        ("a", "k1"): "v1", ("a", "k2"): "quoted", ("a", "k3"): " x ", ("a", "k4"): "a=b",
        ("a", "k5"): "x # not a comment", ("a", "k6"): "first\nsecond\nthird", ("a", "k7"): "",
        ("b", "k8"): "v : w",
    }


def test_sections_are_normalized_like_oslo_config():
    doc = parse("[DEFAULT]\na = 1\n[Keystone_AuthToken]\nb = 2\n[default]\nc = 3\n")
    assert doc.sections() == ["DEFAULT", "keystone_authtoken", "default"]


@pytest.mark.parametrize("text, message", [
    ("[a]\n  indented after blank\n", None),
    ("  starts indented\n", "unexpected continuation"),
    ("[a\nk = v\n", "must end with"),
    ("[]\n", "empty section"),
    ("[a]\njust words\n", "no '=' or ':'"),
    ("[a]\n= v\n", "empty option name"),
    ("k = v\n[a]\n", r"before any \[section\]"),
])
def test_parse_errors_name_the_line(text, message):
    if message is None:
        with pytest.raises(IniError, match="line 2"):
            parse(text)
        return
    with pytest.raises(IniError, match=message):
        parse(text)


# ---------------------------------------------------------------- editing


def test_update_in_place_keeps_key_spelling_and_everything_else():
    text, changes = edit(SAMPLE, [("DEFAULT", "my_ip", ["10.0.0.11"])])
    assert text == SAMPLE.replace("my_ip=192.0.2.2", "my_ip=10.0.0.11")
    assert changes == [dict(section="DEFAULT", option="my_ip", action="updated", collapsed=0)]


def test_unchanged_value_is_no_change():
    text, changes = edit(SAMPLE, [("DEFAULT", "my_ip", ["192.0.2.2"]), ("vnc", "enabled", ["true"])])
    assert text == SAMPLE
    assert changes == []


def test_new_option_goes_after_its_commented_default():
    text = edit_text("[database]\n# doc\n#connection = <None>\n\n# other doc\n#other = 1\n\n[x]\n",
                     [("database", "connection", ["mysql+pymysql://nova@db/nova"])])
    assert text == ("[database]\n# doc\n#connection = <None>\nconnection = mysql+pymysql://nova@db/nova\n"
                    "\n# other doc\n#other = 1\n\n[x]\n")


def test_new_option_without_commented_default_goes_after_last_option():
    text = edit_text(SAMPLE, [("DEFAULT", "debug", [True and "true"]), ("DEFAULT", "host", ["c1"])])
    assert "state_path = /var/lib/nova\ndebug = true\nhost = c1\n\n[database]" in text


def test_after_comment_can_be_turned_off():
    text = edit_text(SAMPLE, [("database", "connection_debug", ["0"]), ("DEFAULT", "my_ip", None)])
    assert text == SAMPLE.replace("my_ip=192.0.2.2\n", "").replace(
        "novadb\n", "novadb\nconnection_debug = 0\n")
    text2 = edit_text("[a]\n#k = 1\nx = 2\n", [("a", "k", ["3"])], after_comment=False)
    assert text2 == "[a]\n#k = 1\nx = 2\nk = 3\n"


def test_new_option_in_empty_section_goes_after_header():
    text = edit_text("[a]\n\n# trailing comment of [a]\n[b]\n", [("a", "k", ["v"])])
    assert text == "[a]\nk = v\n\n# trailing comment of [a]\n[b]\n"


def test_new_section_is_appended_with_a_blank_line():
    text, changes = edit("[a]\nk = v", [("placement", "region_name", ["RegionOne"]), ("placement", "x", ["1"])])
    assert text == "[a]\nk = v\n\n[placement]\nregion_name = RegionOne\nx = 1\n"
    assert [c["action"] for c in changes] == ["added", "added"]


def test_new_file():
    text = edit_text("", [("DEFAULT", "debug", ["true"])])
    assert text == "[DEFAULT]\ndebug = true\n"


def test_section_matching_is_case_insensitive_except_default():
    text = edit_text("[Keystone_Authtoken]\nusername = x\n", [("keystone_authtoken", "username", ["nova"])])
    assert text == "[Keystone_Authtoken]\nusername = nova\n"
    text = edit_text("[default]\nk = 1\n", [("DEFAULT", "k", ["2"])])
    assert text == "[default]\nk = 1\n\n[DEFAULT]\nk = 2\n"


def test_remove_every_occurrence_and_its_continuation_lines():
    edits = [("a", "k", None), ("a", "missing", None), ("nosection", "x", None)]
    text, changes = edit("[a]\nk = 1\n  more\nj = 2\nk = 3\n", edits)
    assert text == "[a]\nj = 2\n"
    assert changes == [dict(section="a", option="k", action="removed", collapsed=1)]


def test_duplicates_are_collapsed_at_the_first_place():
    text, changes = edit("[a]\nk = 1\nj = 2\nk = 3\n[a]\nk = 4\n", [("a", "k", ["5"])])
    assert text == "[a]\nk = 5\nj = 2\n[a]\n"
    assert changes == [dict(section="a", option="k", action="updated", collapsed=2)]


def test_duplicates_with_the_wanted_last_value_are_still_collapsed():
    text, changes = edit("[a]\nk = 1\nk = 5\n", [("a", "k", ["5"])])
    assert text == "[a]\nk = 5\n"
    assert changes[0]["collapsed"] == 1


def test_multi_valued_option_written_as_repeated_lines():
    text, changes = edit("[pci]\n#alias =\nalias = a\n[x]\n", [("pci", "alias", ["a", "b", "c"])])
    assert text == "[pci]\n#alias =\nalias = a\nalias = b\nalias = c\n[x]\n"
    assert changes[0]["action"] == "updated"
    again, changes = edit(text, [("pci", "alias", ["a", "b", "c"])])
    assert again == text and changes == []
    new = edit_text("[pci]\n#alias =\n", [("pci", "alias", ["a", "b"])])
    assert new == "[pci]\n#alias =\nalias = a\nalias = b\n"


def test_empty_list_for_multi_removes_lines():
    text = edit_text("[pci]\nalias = a\nalias = b\n", [("pci", "alias", [])])
    assert text == "[pci]\n"


def test_crlf_files_keep_crlf():
    text = edit_text("[a]\r\nk = 1\r\n", [("a", "k", ["2"]), ("a", "j", ["3"]), ("b", "x", ["y"])])
    assert text == "[a]\r\nk = 2\r\nj = 3\r\n\r\n[b]\r\nx = y\r\n"


def test_missing_final_newline_before_insertion():
    text = edit_text("[a]\nk = 1", [("a", "j", ["2"])])
    assert text == "[a]\nk = 1\nj = 2\n"


def test_written_values_read_back_exactly():
    values = ["plain", " padded ", '"quoted"', "'single'", "", '"', "a = b", "x: y", "#hash", "$my_ip"]
    edits = [("a", "k%d" % i, [v]) for i, v in enumerate(values)]
    text = edit_text("[a]\n", edits)
    read = dict((k, v) for _s, k, _n, v in parse(text).options())
    assert [read["k%d" % i] for i in range(len(values))] == values
    again, changes = edit(text, edits)
    assert again == text and changes == []


# ---------------------------------------------------------------- input checks


@pytest.mark.parametrize("name", ["a]b", "a\nb", "[a", "", " a", 5, None])
def test_bad_section_names(name):
    with pytest.raises(IniError):
        ini_edit.check_section_name(name)


@pytest.mark.parametrize("name", ["a=b", "a:b", "a b", "#a", "[a", "a\nb", "", 3])
def test_bad_option_names(name):
    with pytest.raises(IniError):
        ini_edit.check_option_name("s", name)


def test_values_with_line_breaks_are_refused():
    with pytest.raises(IniError, match="line break"):
        ini_edit.check_value_text("s", "o", "a\nb")


def test_escape_dollars():
    assert ini_edit.escape_dollars("pa$$w$rd") == "pa$$$$w$$rd"
    with pytest.raises(IniError, match="cannot be written literally"):
        ini_edit.escape_dollars("a\\$b")


def test_masked_render_hides_secret_values_and_marks_changes():
    doc = parse("[a]\npassword = old\nuser = u\npassword2 = x\n  continued\n")
    apply_settings(doc, [("a", "password", ["new"])])

    def secret(section, key):
        return key.startswith("password")

    shown = ini_edit.masked_render(doc, secret, "****", changed_mark=" (changed)")
    assert shown == "[a]\npassword = **** (changed)\nuser = u\npassword2 = ****\n"
    assert "new" not in shown and "old" not in shown


def test_duplicates_report():
    doc = parse("[a]\nk = 1\nk = 2\nj = 1\n[b]\nm = 1\nm = 2\n")
    assert sorted(ini_edit.duplicates(doc, skip={("b", "m")})) == [("a", "k", 2)]


def test_a_section_given_twice_is_edited_as_one():
    """Options of either occurrence are found; a new one goes after its commented default wherever that is,
    else after the last option of the section, else after its last header (as oslo.config merges them)."""
    text, changes = edit("[a]\n#k = 1\nx = 1\n[b]\ny = 2\n[A]\nz = 3\n",
                         [("a", "k", ["v"]), ("a", "k2", ["w"]), ("a", "x", ["2"]), ("a", "z", None),
                          ("A", "k3", ["u"]), ("b", "k", ["b1"])])
    assert text == "[a]\n#k = 1\nk = v\nx = 2\n[b]\ny = 2\nk = b1\n[A]\nk2 = w\nk3 = u\n"
    assert [c["action"] for c in changes] == ["added", "added", "updated", "removed", "added", "added"]
    assert edit_text("[a]\n#k = 1\n\n[a]\n", [("a", "j", ["1"]), ("a", "k", ["2"]), ("a", "k", ["3"])]) == \
        "[a]\n#k = 1\nk = 3\n\n[a]\nj = 1\n"


def test_sample_sized_file_edits_keep_everything_else():
    """Debian's sample is ~10,000 lines: many sections, each option after its own commented default."""
    sections = ["DEFAULT"] + ["s%d" % i for i in range(60)]
    text = "".join("[%s]\n" % s + "".join("# help of o%d\n#o%d = <None>\n\n" % (j, j) for j in range(50))
                   for s in sections)
    edits = [(s, "o%d" % j, ["v%d" % j]) for s in sections[::7] for j in (3, 41)] + [("new", "x", ["1"])]
    new, changes = edit(text, edits)
    assert len(changes) == len(edits) and new.count("\n") == text.count("\n") + len(edits) + 1  # and the header
    assert "[s7]\n# help of o0\n" in new and "#o3 = <None>\no3 = v3\n\n# help of o4" in new
    assert new.endswith("#o49 = <None>\n\n[new]\nx = 1\n")
    again, changes = edit(new, edits)
    assert again == new and changes == []
