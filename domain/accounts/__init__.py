"""The owner's account and sign-in.

- `owners`: create, reset, check a password, sessions
- `passwords`: argon2id hashing
- `two_factor`: TOTP and recovery codes
- `login_attempts`, `login_throttle`: counted attempts and who must wait
- `known_devices`: the signed cookie of a browser that has logged in before
"""
