"""`app.py login --agency` adds an agency member's login beside a creator's, asking for the agency scopes."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import requests

from standins.fanvue import Sandbox
from standins.fanvue.agency import ADMIN
from store import accounts
from store.db import Store
from tests.test_login import LoginProcess, _browser, _env


def test_a_creator_and_an_agency_login_are_two_accounts_and_logging_in_again_replaces_one(tmp_path):
    with Sandbox(creators=2, fans=3) as sandbox:
        db_path = tmp_path / "bridge.db"
        env = _env(sandbox, db_path)
        creator = LoginProcess(tmp_path, env)
        _browser(creator.authorize_url())
        assert creator.finish()[0] == 0

        requests.post(f"{sandbox.url}/_sandbox/oauth", json={"account": ADMIN}, timeout=5).raise_for_status()
        agency = LoginProcess(tmp_path, env, extra=("--agency",))
        url = agency.authorize_url()
        scope = parse_qs(urlsplit(url).query)["scope"][0].split()
        assert {"read:creator", "read:agency"} <= set(scope)
        _browser(url)
        code, out, err = agency.finish()
        assert code == 0, err
        assert "(@agency-admin)" in out

        requests.post(f"{sandbox.url}/_sandbox/oauth", json={"account": None}, timeout=5).raise_for_status()
        again = LoginProcess(tmp_path, env)
        _browser(again.authorize_url())
        assert again.finish()[0] == 0

        store = Store(db_path)
        try:
            stored = accounts.all_accounts(store.db)
        finally:
            store.close()
    handles = [(a.handle, a.mode, a.logged_in) for a in stored]
    assert handles == [(sandbox.world.creator["handle"], "creator", True), ("agency-admin", "agency", True)]
