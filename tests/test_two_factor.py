"""The second factor's rules, with the time passed in: TOTP steps, reuse, recovery codes."""

import re
from datetime import UTC, datetime, timedelta

import pyotp
from sqlalchemy import select

from domain.accounts.two_factor import (
    matching_step,
    new_recovery_codes,
    qr_svg,
    recovery_code_hash,
    use_recovery_code,
    use_totp,
)
from extensions import db
from models import Owner, RecoveryCode

NOW = datetime(2026, 11, 25, 12, 0, 10, tzinfo=UTC)
SECRET = pyotp.random_base32()


def code_at(moment: datetime) -> str:
    return pyotp.TOTP(SECRET).at(moment)


def test_a_code_is_accepted_one_step_either_side_and_not_further():
    step = pyotp.TOTP(SECRET).timecode(NOW)
    assert matching_step(SECRET, code_at(NOW), NOW, None) == step
    assert matching_step(SECRET, code_at(NOW - timedelta(seconds=30)), NOW, None) == step - 1
    assert matching_step(SECRET, code_at(NOW + timedelta(seconds=30)), NOW, None) == step + 1
    assert matching_step(SECRET, code_at(NOW - timedelta(seconds=90)), NOW, None) is None
    assert matching_step(SECRET, "12345", NOW, None) is None
    assert matching_step(SECRET, "abcdef", NOW, None) is None


def test_a_code_of_a_step_already_used_is_refused():
    step = pyotp.TOTP(SECRET).timecode(NOW)
    assert matching_step(SECRET, code_at(NOW), NOW, last_step=step) is None
    earlier = code_at(NOW - timedelta(seconds=30))
    assert matching_step(SECRET, earlier, NOW, last_step=step) is None  # older than the last use
    assert matching_step(SECRET, code_at(NOW + timedelta(seconds=30)), NOW, step) == step + 1


def test_recovery_codes_are_ten_distinct_80_bit_codes_read_leniently():
    codes = new_recovery_codes()
    assert len(set(codes)) == 10
    assert all(re.fullmatch(r"[A-Z2-7]{4}(-[A-Z2-7]{4}){3}", code) for code in codes)
    code = codes[0]
    assert recovery_code_hash(code) == recovery_code_hash(code.lower().replace("-", " "))
    assert len(recovery_code_hash(code)) == 64
    assert recovery_code_hash("123456") is None


def test_the_qr_code_is_inline_svg_without_any_style_the_csp_would_block():
    svg = qr_svg(pyotp.TOTP(SECRET).provisioning_uri(name="saed@example.test", issuer_name="X"))
    assert svg.startswith("<svg") and "viewBox" in svg
    assert "style" not in svg.lower() and "<script" not in svg.lower()
    assert "<title>" in svg


def test_using_a_code_twice_fails_the_second_time(app, owner_account):
    with app.app_context():
        owner = db.session.scalar(select(Owner))
        owner.totp_secret = SECRET
        db.session.add(RecoveryCode(owner_id=owner.id, code_hash=recovery_code_hash("AAAA" * 4)))
        db.session.commit()
        assert use_totp(db.session, owner, code_at(NOW), NOW)
        assert not use_totp(db.session, owner, code_at(NOW), NOW)
        assert use_recovery_code(db.session, owner, "aaaa-aaaa-aaaa-aaaa", NOW)
        assert not use_recovery_code(db.session, owner, "AAAA-AAAA-AAAA-AAAA", NOW)
        db.session.commit()
        assert db.session.scalar(select(Owner.totp_last_step)) == pyotp.TOTP(SECRET).timecode(NOW)
