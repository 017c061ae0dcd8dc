"""Downloads are confined to the files folder, whatever the encoding of the name."""

from urllib.parse import quote

import pytest

# {abs} is the absolute path of a secret file next to (outside) the files folder, {abs_q} the
# same fully percent-encoded. "files-private" is a sibling folder sharing the "files" prefix.
ATTACKS = [
    "../secret.txt",
    "..%2fsecret.txt",
    "..%2Fsecret.txt",
    "%2e%2e%2fsecret.txt",
    "%2e%2e/secret.txt",
    "manuals/../../secret.txt",
    "manuals%2f..%2f..%2fsecret.txt",
    "....//secret.txt",
    "..././secret.txt",
    "{abs}",
    "{abs_q}",
    "%2f{abs_q}",
    "../files-private/secret.txt",
    "..%2ffiles-private%2fsecret.txt",
]


@pytest.mark.parametrize("name", ATTACKS)
def test_traversal_attempt_is_refused(shop, name):
    outside = str(shop.secrets["outside"])
    path = "/files?name=" + name.format(abs=quote(outside), abs_q=quote(outside, safe=""))
    status, _h, body = shop.request(path, token=shop.tokens["alice"])
    assert shop.secret_marker.encode() not in body, f"secret leaked via {path}"
    assert status in (400, 403, 404), f"{path} answered {status}"


def test_directories_are_not_downloads(shop):
    for name in ["manuals", ".", "manuals/.."]:
        status, _h, _body = shop.request("/files?name=" + quote(name), token=shop.tokens["alice"])
        assert status in (400, 403, 404), f"/files?name={name} (a folder) answered {status}"
