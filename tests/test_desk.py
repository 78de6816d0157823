"""The desk file: parsed to each creator's channel, persona and approvers; every mistake named with its
line, all at once; hostile YAML refused; handles and channels checked against the accounts and Slack."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from slack_sdk import WebClient

import settings
from desk import (
    MAX_DEPTH,
    MAX_DESK_BYTES,
    CreatorDesk,
    Desk,
    DeskError,
    check_against,
    check_channels,
    default_creator,
    load_desk,
)
from standins.slack_api import SlackStandin

pytestmark = pytest.mark.timeout(60)

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "xoxb-test"
# Distinctive, so that a leak anywhere is found by a plain substring search.
LITERAL_SECRET = "LITERALSECRET-7777"
ENV_SECRET = "ENVSECRET-8888"
PERSONA = "name: Mia\ntone: warm\nsign_off: xx Mia\n"

GOOD = """\
# the agency's desk
creators:
  Mia:
    channel: C0MIA
    persona: personas/mia.yml
    approvers: [U01AAA, W02BBB, S03TEAM]
    sla_minutes: 45
    ppv_max_price_cents: 300
  "@luna":
    channel: G0LUNA
    approvers: S04GROUP
    webhook_secret_env: LUNA_SECRET
    enabled: false
  nova_x:
    channel: C0NOVA
    webhook_secret: LITERALSECRET-7777
"""


def write(folder: Path, text: str | bytes, name: str = "desk.yml") -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return path


def problems(path: Path, environ: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(DeskError) as caught:
        load_desk(path, environ=environ or {})
    for problem in caught.value.problems:
        assert problem in str(caught.value)
        assert problem.startswith(str(path))
    return caught.value.problems


def creator(handle: str, channel: str, **fields) -> CreatorDesk:
    values = dict(
        persona_file=None,
        approvers=frozenset(),
        approver_group=None,
        enabled=True,
        webhook_secret=None,
        sla_minutes=None,
        ppv_max_price_cents=None,
    )
    return CreatorDesk(handle=handle, channel=channel, **{**values, **fields})


def test_a_good_file_parses_to_each_creators_desk(tmp_path):
    write(tmp_path / "desk" / "personas", PERSONA, "mia.yml")
    path = write(tmp_path / "desk", GOOD)
    desk = load_desk(path, environ={"LUNA_SECRET": f" {ENV_SECRET} "})
    assert desk.creators == {
        "mia": creator(
            "mia",
            "C0MIA",
            persona_file=tmp_path / "desk" / "personas" / "mia.yml",
            approvers=frozenset({"U01AAA", "W02BBB"}),
            approver_group="S03TEAM",
            sla_minutes=45,
            ppv_max_price_cents=300,
        ),
        "luna": creator(
            "luna", "G0LUNA", approver_group="S04GROUP", webhook_secret=ENV_SECRET, enabled=False
        ),
        "nova_x": creator("nova_x", "C0NOVA", webhook_secret=LITERAL_SECRET),
    }
    assert desk.lines == {"mia": 3, "luna": 9, "nova_x": 14}
    assert LITERAL_SECRET not in repr(desk) and ENV_SECRET not in repr(desk)


def test_for_handle_finds_a_creator_in_any_case_and_falls_back_to_the_default(tmp_path):
    write(tmp_path / "personas", PERSONA, "mia.yml")
    desk = load_desk(write(tmp_path, GOOD), environ={"LUNA_SECRET": ENV_SECRET})
    default = default_creator("@Zoe", "C0DEFAULT", approvers=frozenset({"U09ZZZ"}))
    assert default == creator("zoe", "C0DEFAULT", approvers=frozenset({"U09ZZZ"}))
    assert desk.for_handle("@MIA", default).channel == "C0MIA"
    assert desk.for_handle("luna", default).approver_group == "S04GROUP"
    assert desk.for_handle("somebody-else", default) is default
    assert Desk({}).for_handle("mia", default) is default


def test_every_problem_is_reported_at_once_each_with_its_line(tmp_path):
    write(tmp_path / "personas", "name: Mia\ntone: [unclosed\n", "broken.yml")
    path = write(
        tmp_path,
        """\
creators:
  mia:
    chanel: C0MIA
    persona: personas/missing.yml
    enabled: "yes please"
  MIA:
    channel: C0OTHER
  ava:
    channel: general
    persona: personas/broken.yml
    approvers: [U01AAA, "@alice", S01ONE, S02TWO]
    sla_minutes: "30"
    ppv_max_price_cents: 299
  bea:
    channel: C0BEA
    channel: C0BEA2
    ppv_max_price_cents: 9.99
    webhook_secret: ${BEA_SECRET}
  cat:
    channel: C0CAT
    webhook_secret: LITERALSECRET-7777
    webhook_secret_env: CAT_SECRET
  dee:
    channel: C0DEE
    webhook_secret_env: DEE_SECRET
    sla_minutes: 100000
  "not a handle!":
    channel: C0X
  eve: C0EVE
settings:
  poll: 5
""",
    )
    found = problems(path, environ={"CAT_SECRET": ENV_SECRET})
    expected = [
        (3, "creators.mia.chanel is not a desk setting; did you mean channel?"),
        (2, "creators.mia.channel is missing"),
        (4, "creators.mia.persona personas/missing.yml: no persona file at"),
        (5, "creators.mia.enabled should be true or false, not 'yes please'"),
        (6, "creators.mia is listed twice (first on line 2; handles ignore case)"),
        (9, "creators.ava.channel should be a Slack channel ID (C… or G…), not 'general'"),
        (10, f"creators.ava.persona personas/broken.yml: the persona does not load: {tmp_path}"),
        (
            11,
            "creators.ava.approvers should hold Slack user IDs (U… or W…) or one user group ID (S…), not '@alice'",
        ),
        (11, "creators.ava.approvers names 2 user groups; one at most"),
        (12, "creators.ava.sla_minutes should be a whole number, not '30'"),
        (
            13,
            "creators.ava.ppv_max_price_cents should be at least 300 (Fanvue's lowest price, in cents), not 299",
        ),
        (16, "creators.bea.channel is given twice (first on line 15)"),
        (17, "creators.bea.ppv_max_price_cents is in cents, a whole number (999 for 9.99), not 9.99"),
        (
            18,
            "creators.bea.webhook_secret is not expanded from the environment: write `webhook_secret_env: BEA_SECRET`",
        ),
        (22, "creators.cat.webhook_secret_env and webhook_secret are both set; keep one"),
        (25, "creators.dee.webhook_secret_env names DEE_SECRET, which is not set"),
        (26, "creators.dee.sla_minutes should be between 1 and 10080, not 100000"),
        (27, "creators: 'not a handle!' is not a Fanvue handle"),
        (29, "creators.eve should be a mapping with channel, persona"),
        (30, "settings is not a desk setting (known: creators)"),
    ]
    assert len(found) == len(expected), found
    # One by one, in the order of the file's lines.
    for (line, text), problem in zip(sorted(expected, key=lambda e: e[0]), found, strict=True):
        assert problem.startswith(f"{path} line {line}: {text}"), (line, text, problem)
    # The persona's own problem, with the persona's own line, is inside the desk's.
    assert any(f"{tmp_path / 'personas' / 'broken.yml'} line 3: not valid YAML" in p for p in found)
    assert ENV_SECRET not in "".join(found) and LITERAL_SECRET not in "".join(found)


@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [
        ("", None, "the file is empty; it needs `creators:`"),
        ("creators: [mia, luna]\n", 1, "creators should be a mapping of Fanvue handles"),
        ("- mia\n", 1, "the file should be a mapping with creators"),
        ("creators:\n  mia: {channel: C0MIA\n", 3, "not valid YAML"),
    ],
)
def test_a_file_of_the_wrong_shape_says_what_belongs_there(tmp_path, text, line, problem):
    path = write(tmp_path, text)
    where = f"{path} line {line}: " if line else f"{path}: "
    assert [p[: len(where) + len(problem)] for p in problems(path)] == [where + problem]


def test_channels_and_handles_are_read_as_written(tmp_path):
    path = write(
        tmp_path,
        'creators:\n  0123:\n    channel: 12345\n  yes:\n    channel: "#general"\n  zed:\n    channel: [C0A]\n',
    )
    assert problems(path) == [
        f"{path} line 3: creators.0123.channel should be a Slack channel ID (C… or G…), not 12345",
        f"{path} line 5: creators.yes.channel should be a Slack channel ID (C… or G…), not '#general'",
        f"{path} line 7: creators.zed.channel should be a Slack channel ID (C… or G…), not a list or mapping",
    ]


def test_an_empty_creators_list_sends_everything_to_the_defaults(tmp_path):
    assert load_desk(write(tmp_path, "creators:\n"), environ={}).creators == {}


def test_an_alias_bomb_is_refused_at_its_first_alias(tmp_path):
    lines = ["creators:", '  mia: {channel: C0MIA, approvers: &l0 ["U1","U1","U1","U1","U1","U1","U1","U1"]}']
    for level in range(1, 10):
        lines.append(
            f"  x{level}: {{channel: C0X, approvers: &l{level} [{', '.join([f'*l{level - 1}'] * 10)}]}}"
        )
    path = write(tmp_path, "\n".join(lines) + "\n")
    assert problems(path) == [f"{path} line 3: uses an alias (*name); write the value out instead"]


def test_deep_nesting_too_large_and_not_utf8_files_are_refused_with_their_line(tmp_path):
    nested = write(tmp_path, "creators:\n  mia:\n    approvers: " + "[" * 50 + "]" * 50 + "\n", "nested.yml")
    assert problems(nested) == [f"{nested} line 3: is nested more than {MAX_DEPTH} levels deep"]
    big = write(tmp_path, "creators:\n" + "# padding\n" * (MAX_DESK_BYTES // 10 + 1), "big.yml")
    assert problems(big)[0].startswith(f"{big} line ")
    assert "the file is larger than 1024 KiB" in problems(big)[0]
    latin = write(
        tmp_path, "creators:\n  mia:\n    channel: C0MIA # caf\xe9\n".encode("latin-1"), "latin.yml"
    )
    assert problems(latin) == [f"{latin} line 3: not UTF-8 text; save the file as UTF-8"]


def test_a_missing_desk_file_is_named(tmp_path):
    path = tmp_path / "nowhere.yml"
    assert problems(path) == [f"{path} does not exist (start from desk.example.yml)"]


def test_the_example_desk_file_loads_with_its_persona_relative_to_the_file(tmp_path, monkeypatch):
    folder = tmp_path / "config"
    folder.mkdir()
    shutil.copy(ROOT / "desk.example.yml", folder)
    shutil.copy(ROOT / "persona.example.yml", folder)
    monkeypatch.chdir(tmp_path)  # not the desk file's folder: paths in it still start there
    desk = load_desk(Path("config/desk.example.yml"), environ={"LUNA_WEBHOOK_SECRET": ENV_SECRET})
    mia, luna = desk.creators["mia"], desk.creators["luna"]
    assert mia.persona_file == Path("config/persona.example.yml") and mia.approvers and mia.enabled
    assert (luna.approver_group, luna.webhook_secret, luna.enabled) == ("S0789TEAM1", ENV_SECRET, False)
    # Without the secret's variable the example says which line needs it.
    assert problems(Path("config/desk.example.yml")) == [
        "config/desk.example.yml line 28: creators.luna.webhook_secret_env names LUNA_WEBHOOK_SECRET, "
        "which is not set"
    ]


def test_check_against_names_handles_no_account_serves_with_their_line(tmp_path):
    path = write(
        tmp_path,
        "creators:\n  mia:\n    channel: C0MIA\n  lunaa:\n    channel: C0LUNA\n"
        "  old:\n    channel: C0OLD\n    enabled: false\n",
    )
    desk = load_desk(path, environ={})
    assert check_against(desk, {"Mia", "luna", "zoe"}) == [
        f"{path} line 4: unknown creator handle @lunaa (did you mean @luna?); the accounts serve @luna, @mia, @zoe"
    ]
    assert check_against(desk, {"mia", "lunaa"}) == []  # @old is paused: its account may be logged out
    assert check_against(desk, set())[0].endswith("; the accounts serve no creator")


@pytest.fixture
def slack():
    with SlackStandin(bot_token=TOKEN, known_channels={"C0MIA", "G0PRIV"}) as standin:
        with standin.state.lock:
            standin.state.channels_without_bot = {"C0OUT", "G0HIDDEN"}
            standin.state.archived_channels = {"G0PRIV"}
        yield standin


def test_check_channels_asks_slack_once_a_channel_and_names_each_creator_it_fails(tmp_path, slack):
    path = write(
        tmp_path,
        """\
creators:
  mia:
    channel: C0MIA
  bob:
    channel: C0OUT
  bea:
    channel: C0OUT
  cat:
    channel: C0GONE
  dan:
    channel: G0PRIV
  eve:
    channel: G0HIDDEN
  old:
    channel: C0NOWHERE
    enabled: false
""",
    )
    found = check_channels(load_desk(path, environ={}), WebClient(token=TOKEN, base_url=slack.api_url))
    assert found == [
        f"{path} line 4: @bob's channel C0OUT (#c0out) does not have the bot in it: invite it there "
        "(/invite @Fanvue Inbox, or your app's name)",
        f"{path} line 6: @bea's channel C0OUT (#c0out) does not have the bot in it: invite it there "
        "(/invite @Fanvue Inbox, or your app's name)",
        f"{path} line 8: @cat's channel C0GONE was not found: it does not exist, or it is private and the "
        "bot is not in it",
        f"{path} line 10: @dan's channel G0PRIV (#g0priv) is archived: unarchive it or choose another channel",
        f"{path} line 12: @eve's channel G0HIDDEN was not found: it does not exist, or it is private and "
        "the bot is not in it",
    ]
    asked = [call.args["channel"] for call in slack.calls("conversations.info")]
    assert asked == ["C0MIA", "C0OUT", "C0GONE", "G0PRIV", "G0HIDDEN"]  # once each; the paused one never


def test_check_channels_says_which_scope_the_app_lacks(tmp_path, slack):
    path = write(tmp_path, "creators:\n  mia:\n    channel: C0MIA\n")
    slack.fail("conversations.info", "missing_scope", count=1)
    found = check_channels(load_desk(path, environ={}), WebClient(token=TOKEN, base_url=slack.api_url))
    assert found == [
        f"{path} line 2: @mia's channel C0MIA cannot be checked: the Slack app lacks the channels:read scope "
        "(add channels:read and groups:read to the app's bot scopes and reinstall it)"
    ]
    assert check_channels(load_desk(path, environ={}), WebClient(token=TOKEN, base_url=slack.api_url)) == []


def test_desk_file_setting_is_optional_but_must_exist_when_set(tmp_path):
    env = {
        "SLACK_BOT_TOKEN": "xoxb-1",
        "SLACK_SIGNING_SECRET": "s",
        "SLACK_CHANNEL_ID": "C0CARDS",
        "FANVUE_ACCESS_TOKEN": "t",
    }
    assert settings.from_mapping(env).desk_file is None
    path = write(tmp_path, "creators:\n")
    assert settings.from_mapping({**env, "DESK_FILE": str(path)}).desk_file == path
    with pytest.raises(settings.SettingsError) as caught:
        settings.from_mapping({**env, "DESK_FILE": str(tmp_path / "nope.yml")})
    assert caught.value.problems == [
        f"DESK_FILE {tmp_path / 'nope.yml'} does not exist (start from desk.example.yml; README: Desk file), "
        "or unset it to send every card to SLACK_CHANNEL_ID"
    ]
    with pytest.raises(settings.SettingsError) as caught:
        settings.from_mapping({**env, "DESK_FILE": str(tmp_path)})
    assert "is a folder, not a file" in caught.value.problems[0]
