"""User profiles (SRS-190..SRS-193, SRS-201): input ranges, the age rule over
every birth year around the limit, the PIN never in clear, removal keeps the
sessions."""
from __future__ import annotations

import sqlite3
from datetime import datetime, timezone

import pytest

from core.history import History
from core.settings import parse_settings
from core.users import (MIN_AGE_YEARS, UserError, add_user, age_refusal, check_pin,
                        find_removed_user, find_user, hash_pin, list_users, parse_born,
                        parse_hdss, parse_name, parse_pin, parse_sites, remove_user,
                        resolve_user, restore_user, unlock)

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=timezone.utc)


@pytest.fixture
def hist(tmp_path):
    with History(tmp_path / "h.sqlite") as h:
        yield h


# --- input ranges -------------------------------------------------------------------------------
@pytest.mark.req("SRS-190", "SRS-201")
@pytest.mark.parametrize("name", ["a", "Anna", "anna-maria", "J. Doe", "x_1", "a" * 32, "0ma"])
def test_names_allowed(name):
    assert parse_name(name) == name


@pytest.mark.req("SRS-190", "SRS-201")
@pytest.mark.parametrize("name", ["", "   ", "a" * 33, "-anna", "an/na", "anna;drop", "änna", "a\nb",
                                  "<b>"])
def test_bad_names_refused_naming_field_and_range(name):
    with pytest.raises(UserError, match=r"name: .* allowed: 1\.\.32 characters"):
        parse_name(name)


@pytest.mark.req("SRS-190", "SRS-201")
def test_year_of_birth_range_is_1900_to_the_clock_year():
    assert parse_born("1900", NOW) == 1900 and parse_born("2026", NOW) == 2026
    for bad in ("1899", "2027", "-5", "0"):
        with pytest.raises(UserError, match=r"--born \(year of birth\): .* allowed range 1900\.\.2026"):
            parse_born(bad, NOW)
    for bad in ("19x0", "", "1990.5", "MCMXC"):
        with pytest.raises(UserError, match=r"--born .* not a year; allowed 1900\.\.2026"):
            parse_born(bad, NOW)


@pytest.mark.req("SRS-197", "SRS-201")
def test_hdss_range_is_1_to_4():
    assert [parse_hdss(str(v)) for v in range(1, 5)] == [1, 2, 3, 4]
    for bad in ("0", "5", "-1", "2.5", "x", ""):
        with pytest.raises(UserError, match=r"--hdss \(sweating severity, HDSS\): .*1\.\.4"):
            parse_hdss(bad)


@pytest.mark.req("SRS-190", "SRS-201")
def test_sites():
    assert parse_sites(None) == ("hands", "feet", "underarms")
    assert parse_sites("feet,hands,feet") == ("feet", "hands")
    for bad in ("", "hand", "hands,,feet", "head"):
        with pytest.raises(UserError, match="--sites: .*one or more of hands, feet, underarms"):
            parse_sites(bad)


@pytest.mark.req("SRS-192", "SRS-201")
def test_pin_is_4_to_8_digits_and_never_echoed():
    for good in ("1234", "12345678", "0000"):
        assert parse_pin(good) == good
    for bad in ("123", "123456789", "12a4", "１２３４", "", "12 34"):
        with pytest.raises(UserError, match=r"PIN: must be 4\.\.8 digits") as info:
            parse_pin(bad)
        if bad.strip():
            assert bad not in str(info.value)


# --- the PIN ------------------------------------------------------------------------------------------
@pytest.mark.req("SRS-192")
def test_pin_stored_only_as_a_salted_scrypt_hash(tmp_path):
    path = tmp_path / "h.sqlite"
    with History(path) as h:
        add_user(h, "anna", 1990, pin="73519", now=NOW)
        add_user(h, "ben", 1990, pin="73519", now=NOW)
    raw = path.read_bytes()
    assert b"73519" not in raw and "73519".encode("utf-16-le") not in raw
    hashes = [r[0] for r in sqlite3.connect(path).execute("SELECT pin_hash FROM users ORDER BY id")]
    assert all(h.startswith("scrypt$16384$8$1$") for h in hashes)
    assert hashes[0] != hashes[1]                        # salted: same PIN, different hash
    assert len(hashes[0].split("$")[4]) == 32            # 16 bytes of salt
    assert all(check_pin("73519", h) for h in hashes)
    assert not any(check_pin(p, hashes[0]) for p in ("73518", "7351", "735190", ""))


@pytest.mark.req("SRS-192")
@pytest.mark.parametrize("stored", ["", "plain", "scrypt$16384$8$1$zz$00", "md5$1$2$3$00$00",
                                    "scrypt$0$8$1$00$00"])
def test_a_damaged_pin_hash_never_matches(stored):
    assert check_pin("1234", stored) is False


@pytest.mark.req("SRS-192")
def test_unlock_refuses_a_wrong_or_missing_pin(hist):
    user = add_user(hist, "anna", 1990, pin="2468", now=NOW)
    unlock(hist, user, lambda: "2468")
    unlock(hist, user, lambda: "2468\n")
    for typed in ("2467", "", None, "24680"):
        with pytest.raises(UserError, match="PIN: wrong or missing PIN for user 'anna'"):
            unlock(hist, user, lambda t=typed: t)
    nopin = add_user(hist, "ben", 1990, now=NOW)
    unlock(hist, nopin, lambda: pytest.fail("a user without PIN is not asked"))


# --- the age rule ----------------------------------------------------------------------------------------
@pytest.mark.req("SRS-190")
@pytest.mark.parametrize("now", [datetime(2026, 1, 1, 0, 0, tzinfo=timezone.utc),
                                 datetime(2026, 12, 31, 23, 59, tzinfo=timezone.utc)])
def test_a_profile_is_allowed_from_the_year_of_its_6th_birthday(hist, now):
    for born in range(now.year - 10, now.year + 1):
        user = add_user(hist, f"u{born}", born, now=now)
        refusal = age_refusal(user, now)
        certainly = now.year - born - 1                  # age on `now` is this or one more
        assert (refusal is None) == (certainly >= MIN_AGE_YEARS), (born, refusal)
        if refusal:
            assert f"under {MIN_AGE_YEARS} years" in refusal and f"allowed from {born + 6}" in refusal
    assert MIN_AGE_YEARS == 5


@pytest.mark.req("SRS-190")
def test_a_profile_without_year_is_left_to_the_checklist(hist):
    user = add_user(hist, "default", None, now=NOW)
    assert age_refusal(user, NOW) is None


# --- profiles in the history ------------------------------------------------------------------------------
@pytest.mark.req("SRS-190")
def test_names_are_unique_ignoring_case_among_active_users(hist):
    add_user(hist, "Anna", 1990, now=NOW)
    with pytest.raises(UserError, match="a user 'anna' exists already"):
        add_user(hist, "anna", 1991, now=NOW)
    assert [u.name for u in list_users(hist)] == ["Anna"]


@pytest.mark.req("SRS-193", "SRS-191")
def test_removing_a_user_keeps_the_sessions_marked(hist):
    anna = add_user(hist, "anna", 1990, now=NOW)
    hist.user_id = anna.user_id
    sids = [hist.begin_session(parse_settings({"site": "hands", "current_ma": 10, "minutes": 10}))
            for _ in range(3)]
    before = [r.to_dict() for r in hist.list_sessions()]
    assert remove_user(hist, anna, NOW) == 3
    assert find_user(hist, "anna") is None and list_users(hist) == []
    removed = list_users(hist, include_removed=True)
    assert [(u.name, u.removed_at) for u in removed] == [("anna", "2026-12-01T08:00:00.000+00:00")]
    assert [r.to_dict() for r in hist.list_sessions()] == before          # unchanged
    assert [r.session_id for r in hist.list_sessions(anna.user_id)] == sids
    with pytest.raises(UserError, match="--user: user 'anna' was removed"):
        resolve_user(hist, "anna")
    # the name again: refused while the removed profile has sessions (its course
    # and guard would start from nothing); restored, it is the same profile
    with pytest.raises(UserError, match=r"removed profile 'anna' with 3 sessions.*ionto user restore anna"):
        add_user(hist, "anna", 2000, now=NOW)
    again = restore_user(hist, find_removed_user(hist, "anna")[0])
    assert again.user_id == anna.user_id and again.born == 1990
    assert [r.session_id for r in hist.list_sessions(again.user_id)] == sids


@pytest.mark.req("SRS-191")
def test_the_user_is_implied_only_when_there_is_one(hist):
    with pytest.raises(UserError, match="no user profile"):
        resolve_user(hist, None)
    anna = add_user(hist, "anna", 1990, now=NOW)
    assert resolve_user(hist, None) == anna
    add_user(hist, "ben", 1990, now=NOW)
    with pytest.raises(UserError, match=r"has 2 users \(anna, ben\); give --user NAME"):
        resolve_user(hist, None)
    with pytest.raises(UserError, match="--user: no user 'carl'.*users: anna, ben"):
        resolve_user(hist, "carl")
    assert resolve_user(hist, "BEN").name == "ben"


@pytest.mark.req("SRS-192")
def test_hash_pin_with_a_fixed_salt_is_deterministic():
    # the stored form is reproducible from the salt: what check_pin relies on
    salt = bytes(range(16))
    assert hash_pin("1234", salt) == hash_pin("1234", salt) != hash_pin("1235", salt)
