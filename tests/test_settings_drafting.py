"""Drafting settings: defaults, the LLM endpoint checked as a whole, the key kept secret, the persona file read."""

from __future__ import annotations

from pathlib import Path

import pytest

import runtime as app_runtime
import settings
from drafting.llm import OpenAIChatDrafter
from drafting.template import TemplateDrafter
from settings import SettingsError

ROOT = Path(__file__).resolve().parent.parent
KEY = "sk-LLMKEY-7777"
BASE = {
    "SLACK_BOT_TOKEN": "xoxb-1",
    "SLACK_SIGNING_SECRET": "s",
    "SLACK_CHANNEL_ID": "C0123",
    "FANVUE_ACCESS_TOKEN": "t",
}


def problems(env: dict[str, str]) -> list[str]:
    with pytest.raises(SettingsError) as caught:
        settings.from_mapping({**BASE, **env})
    assert KEY not in str(caught.value)
    return caught.value.problems


def test_defaults_need_no_setup():
    s = settings.from_mapping(BASE)
    assert (s.drafter, s.llm_concurrency, s.draft_context_messages, s.draft_max_chars, s.style_examples) == (
        "template",
        4,
        15,
        1000,
        5,
    )
    assert s.llm_timeout == 30.0 and s.persona_file is None and s.llm_base_url is None


def test_an_openai_drafter_without_endpoint_or_model_names_both():
    [problem] = problems({"DRAFTER": "openai", "LLM_API_KEY": KEY})
    assert problem.startswith("DRAFTER=openai needs LLM_BASE_URL and LLM_MODEL")
    [problem] = problems({"DRAFTER": "openai", "LLM_BASE_URL": "http://localhost:11434/v1"})
    assert "needs LLM_MODEL" in problem and "LLM_BASE_URL" not in problem.split(":")[0]


def test_every_drafting_problem_at_once():
    found = problems(
        {
            "DRAFTER": "gpt",
            "LLM_BASE_URL": "localhost:11434",
            "DRAFT_MAX_CHARS": "5000",
            "LLM_CONCURRENCY": "0",
            "DRAFT_CONTEXT_MESSAGES": "many",
            "STYLE_EXAMPLES": "-1",
        }
    )
    text = "\n".join(found)
    for name in (
        "DRAFTER should be one of template, openai",
        "LLM_BASE_URL should be an http(s) URL",
        "DRAFT_MAX_CHARS should be between 50 and 3000",
        "LLM_CONCURRENCY should be between 1 and 32",
        "DRAFT_CONTEXT_MESSAGES should be a whole number",
        "STYLE_EXAMPLES should be between 0 and 20",
    ):
        assert name in text


def test_the_api_key_is_kept_out_of_the_repr():
    s = settings.from_mapping(
        {
            **BASE,
            "DRAFTER": "OpenAI",
            "LLM_BASE_URL": "https://openrouter.ai/api/v1/",
            "LLM_MODEL": "meta-llama/llama-3.1-8b-instruct",
            "LLM_API_KEY": KEY,
        }
    )
    assert s.drafter == "openai" and s.llm_base_url == "https://openrouter.ai/api/v1" and s.llm_api_key == KEY
    assert KEY not in repr(s)


def test_a_malformed_persona_file_stops_the_start_naming_the_line(tmp_path):
    path = tmp_path / "persona.yml"
    path.write_text("name: Mia\nemoji: loads\n", encoding="utf-8")
    [problem] = problems({"PERSONA_FILE": str(path)})
    assert (
        problem == f"PERSONA_FILE: {path} line 2: emoji should be one of none, few, some, lots, not 'loads'"
    )
    [problem] = problems({"PERSONA_FILE": str(tmp_path / "missing.yml")})
    assert "missing.yml does not exist" in problem


def test_build_chooses_the_drafter_and_the_personas_rules(tmp_path):
    env = {
        **BASE,
        "DATABASE_PATH": str(tmp_path / "db.sqlite"),
        "PERSONA_FILE": str(ROOT / "persona.example.yml"),
    }
    runtime = app_runtime.build(settings.from_mapping(env))
    try:
        assert isinstance(runtime.services.drafter, TemplateDrafter)
        assert runtime.services.drafter.persona.sign_off == "xx Mia"
        assert [f.rule for f in runtime.services.guard.check("love, Maria")] == ["no-real-name"]
    finally:
        runtime.services.store.close()
    env.update(
        {
            "DRAFTER": "openai",
            "LLM_BASE_URL": "http://127.0.0.1:9/v1",
            "LLM_MODEL": "m",
            "LLM_CONCURRENCY": "3",
            "DRAFT_CONTEXT_MESSAGES": "40",
        }
    )
    runtime = app_runtime.build(settings.from_mapping(env))
    try:
        drafter = runtime.services.drafter
        assert isinstance(drafter, OpenAIChatDrafter) and isinstance(drafter.fallback, TemplateDrafter)
        assert drafter.config.concurrency == 3 and runtime.services.draft_concurrency == 3
        assert runtime.services.history_size == 40  # the history read covers the context the LLM sees
    finally:
        runtime.services.store.close()
