"""Schemathesis hooks of `make api-check` (loaded through SCHEMATHESIS_HOOKS by run.sh).

Three things a schema cannot do for a fuzzer that authenticates as one real user:

1. Keep the run from acting on that user. Changing its password, locking it with wrong
   logins, disabling it or revoking its Root role would end the run in 401s, so a request whose
   path names the caller's own user is sent to a user that does not exist (a 404) instead.

2. Let the stateful phase's chains reach the records they create (see `_STATEFUL_CREATES`).

3. Tell a schema-valid request the server refuses because of what is stored (a name already
   taken, the policy a credential falls under, the caller itself) from one the schema should
   have refused. `schemathesis.toml` lets the built-in `positive_data_acceptance` accept a 422
   on the operations that have such rules; `state_dependent_rejections_only` below then fails
   every 422 to a schema-valid request unless its error is one of those rules.
"""

from __future__ import annotations

import itertools
import json
import os
import re

import schemathesis
from schemathesis.generation.meta import TestPhase

API = "/nevisidm/api"
CORE = f"{API}/core/v1"
USER = f"{CORE}/{{clientExtId}}/users/{{userExtId}}"

# `<clientExtId>/<userExtId>` of the user Schemathesis authenticates as.
_CALLER = os.environ.get("API_CHECK_CALLER", "default/admin")
_CALLER_CLIENT, _, _CALLER_USER = _CALLER.partition("/")
_ELSEWHERE = "api-check-not-the-caller"


def _protect_caller(case):
    params = case.path_parameters or {}
    if params.get("clientExtId") != _CALLER_CLIENT:
        return
    # The core API names the user `userExtId`; SCIM (`…/scim/v1/{clientExtId}/Users/{id}`) `id`.
    for name in ("userExtId", "id"):
        if params.get(name) == _CALLER_USER and (name == "userExtId" or "/Users/" in case.operation.path):
            case.path_parameters = {**params, name: _ELSEWHERE}
            return


_SERIAL = itertools.count(1)
# Creates of the stateful phase whose chains would mostly stop at a 422 of stored state: the
# values Hypothesis draws repeat (a name taken), and a drawn `policyExtId` names no policy. In
# that phase only, these fields get fresh values or are left out (the client's default policy,
# a generated password), so the chains reach the records behind them. Fuzzing keeps its draws.
_STATEFUL_CREATES = {
    f"POST {CORE}/clients": (("name", "extId"), ()),
    f"POST {CORE}/{{clientExtId}}/users": (("loginId", "extId"), ()),
    f"POST {CORE}/{{clientExtId}}/policies": (("extId",), ()),
    f"POST {CORE}/{{clientExtId}}/vasco": (("extId",), ("policyExtId",)),
    f"POST {USER}/password": (("extId",), ("policyExtId", "password")),
    f"POST {USER}/oath-credentials": (("extId",), ("policyExtId",)),
}


def _fresh_stateful_values(case):
    meta = case.meta
    if meta is None or meta.phase.name != TestPhase.STATEFUL or not meta.generation.mode.is_positive:
        return
    fields = _STATEFUL_CREATES.get(case.operation.label)
    if fields is None or not isinstance(case.body, dict):
        return
    fresh, dropped = fields
    body = dict(case.body)
    for name in fresh:
        if isinstance(body.get(name), str):
            body[name] = f"api-check-{next(_SERIAL)}"
    for name in dropped:
        body.pop(name, None)
    case.body = body


@schemathesis.hook
def before_call(context, case, kwargs):
    _protect_caller(case)
    _fresh_stateful_values(case)


# Errors that depend on stored state (or relate two values), per operation: (code, message).
_TAKEN = [
    ("errors.duplicateName", r"A (client|user|policy|credential) with this (name|extId) '.*' already exists"),
    ("errors.duplicateValue", r"A user with loginId '.*' already exists on client with name .*"),
]
_POLICY_OF_CREDENTIAL = [
    ("errors.invalidParameter", r"PolicyConfiguration doesn't exist with extId '.*'"),
    ("errors.invalidParameter", r"Policy Configuration .* is not of type \w+"),
    ("errors.invalidParameter", r"Default Policy Configuration does not exist for type \w+!"),
]
# `minLength` <= `maxLength`, `fragmentLength` <= `generatedLength` (after defaults or merge).
_CROSS_PARAMETER = [
    ("errors.pcyconf.invalidParamValue", r"Invalid value '.*' for parameter '(maxLength|fragmentLength)'"),
]
_LAST_ROOT = [("errors.invalidParameter", r"The last active Root user cannot be removed\.")]
_NOT_ACTIVE = [
    ("errors.credentialNotActive", r"User with extId .* is not active"),
    ("errors.credentialNotActive", r"Credential with extId '.*' is not active"),
]
_PASSWORD_POLICY = [
    # The policy's own minLength/maxLength, or the current password again.
    ("errors.pwdPolicyViolated", r"The password does not comply with the password policy\."),
]

STATE_DEPENDENT: dict[str, list[tuple[str, str]]] = {
    f"POST {CORE}/clients": _TAKEN,
    f"PATCH {CORE}/clients/{{extId}}": _TAKEN,
    f"POST {CORE}/{{clientExtId}}/users": _TAKEN,
    f"PATCH {USER}": _TAKEN + _LAST_ROOT,
    f"DELETE {USER}": _LAST_ROOT
    + [("errors.invalidParameter", r"A caller cannot delete itself\.")],
    f"DELETE {USER}/roles/{{role}}": _LAST_ROOT,
    f"POST {CORE}/{{clientExtId}}/policies": _TAKEN + _CROSS_PARAMETER,
    f"PATCH {CORE}/{{clientExtId}}/policies/{{extId}}": _CROSS_PARAMETER
    + [
        # The stored policy's type decides which parameter names it takes.
        ("errors.pcyconf.invalidParamName", r"Unknown parameter '.*' for policy type \w+"),
        ("errors.invalidParameter", r"The default policy of type \w+ cannot be unset; .*"),
    ],
    f"POST {USER}/password": _TAKEN
    + _POLICY_OF_CREDENTIAL
    + _PASSWORD_POLICY
    + [
        ("errors.passwordExists", r"User with extId .* already has a Password credential"),
        # Whether a password may or must be sent is the policy's `resetCodeEnabled`.
        ("errors.invalidParameter", r"The 'password' parameter must not be given: .*"),
        ("errors.nullParameter", r"The 'password' parameter is mandatory\."),
    ],
    f"POST {USER}/password/reset": [
        ("errors.credentialNotActive", r"The Password credential of user with extId .* is \S+ and cannot be reset"),
    ],
    f"POST {USER}/password/change": _PASSWORD_POLICY
    + [("errors.credentialNotActive", r"Credential with extId '.*' is not active")],
    f"POST {API}/auth/v1/{{clientExtId}}/users/{{userExtId}}/password/login": _NOT_ACTIVE,
    f"POST {API}/auth/v1/{{clientExtId}}/users/{{userExtId}}/oath-credentials/{{extId}}/login": _NOT_ACTIVE,
    f"POST {API}/auth/v1/{{clientExtId}}/users/{{userExtId}}/oath-credentials/{{extId}}/resync": _NOT_ACTIVE
    + [
        ("errors.invalidParameter", r"Resynchronisation applies to HOTP credentials only\."),
        ("errors.invalidParameter", r"The codes do not match consecutive counter values\."),
    ],
    f"POST {USER}/oath-credentials": _TAKEN + _POLICY_OF_CREDENTIAL,
    f"POST {CORE}/{{clientExtId}}/vasco": _TAKEN
    + _POLICY_OF_CREDENTIAL
    # Distinct `authMode`s across the list: no JSON Schema keyword says so.
    + [("errors.invalidParameter", r"VascoDpToken authMode '.*' is not unique\.")],
    f"PUT {USER}/vasco/{{extId}}": [("errors.vascoExists", r"VASCO credential .* is already assigned")],
}


def _errors(response) -> list[tuple[str, str]]:
    try:
        body = json.loads(response.content)
        return [(e.get("code", ""), e.get("message", "")) for e in body.get("errors", [])]
    except (ValueError, AttributeError, TypeError):
        return []


@schemathesis.check
def state_dependent_rejections_only(ctx, response, case):
    """A schema-valid request may be refused with 422 only for a rule of stored state."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or response.status_code != 422:
        return None
    allowed = STATE_DEPENDENT.get(case.operation.label, [])
    errors = _errors(response)
    for code, message in errors:
        if not any(code == c and re.fullmatch(m, message, re.DOTALL) for c, m in allowed):
            raise AssertionError(
                f"A schema-valid request was refused: 422 {code} {message!r}. "
                "The schema admits what the server refuses."
            )
    if not errors:
        raise AssertionError("422 without an error envelope")
    return None
