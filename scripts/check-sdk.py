"""The official Python SDK against the simulator: see scripts/check-sdk."""
import json
import sys
import urllib.request
from collections import Counter

from verilock import Verilock
from verilock.types import CreateSessionParams
from verilock.types.sessions import ListSessionsParams

root = sys.argv[1]
admin = root[: -len("/api")] + "/_admin"
client = Verilock(api_key="qi_test_simulator", base_url=root)
profile = "3f1c9a52-6f0e-4d0e-9a51-1c2b3d4e5f60"


def post(url, body=None):
    data = json.dumps(body).encode() if body is not None else None
    return json.loads(urllib.request.urlopen(urllib.request.Request(url, data=data, method="POST")).read())


ids = [
    client.sessions.create(
        CreateSessionParams(profile_id=profile, external_id=f"sdk-{i}", applicant_name=f"N {i}", expires_in=3600)
    )["id"]
    for i in range(25)
]
page = client.sessions.list(ListSessionsParams(per_page=10, page=2))
assert page["meta"] == {"current_page": 2, "last_page": 3, "per_page": 10, "total": 25}, page["meta"]
assert [item["id"] for item in page["data"]] == ids[10:20]
print("paging: page 2 of 3, 10 items, in creation order")

post(admin + "/clock?advance=4000")
items, number = [], 1
while True:
    answer = client.sessions.list(ListSessionsParams(per_page=100, page=number, from_date="2000-01-01"))
    items += answer["data"]
    if number >= answer["meta"]["last_page"]:
        break
    number += 1
assert sorted(item["id"] for item in items) == sorted(ids)
final = Counter((item["status"], item["decision"]) for item in items)
assert set(final) <= {("expired", None), ("completed", "approved"), ("completed", "declined"), ("completed", "review")}
print("after the link expired, every session is final:", dict(final))

approved = client.sessions.list(ListSessionsParams(status="completed", decision="approved"))
assert approved["meta"]["total"] == final[("completed", "approved")]
assert all(item["decision"] == "approved" for item in approved["data"])
assert client.sessions.list({"external_id": "sdk-3"})["data"][0]["id"] == ids[3]
assert client.sessions.list(ListSessionsParams(to_date="2000-01-01"))["meta"]["total"] == 0
print("filters: status, decision, external_id, from, to")

detail = client.sessions.retrieve(ids[0])
for key in ("id", "external_id", "status", "decision", "created_at", "completed_at", "expires_at", "documents"):
    assert key in detail, key
post(admin + "/sessions/" + ids[1], {"status": "completed", "decision": "review"})
assert client.sessions.retrieve(ids[1])["decision"] == "review"
print("retrieve, and the admin route's status and decision")

for call, expected in ((lambda: client.sessions.list({"status": "bogus"}), "ValidationError"),
                       (lambda: client.sessions.retrieve("ses_nobody"), "NotFoundError")):
    try:
        call()
        raise AssertionError("no error")
    except Exception as error:
        assert type(error).__name__ == expected, (type(error).__name__, error)
print("errors: a bad filter is the SDK's ValidationError, an unknown id its NotFoundError")
print("the official SDK works against the simulator unchanged")
