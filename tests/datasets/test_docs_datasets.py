"""The curl examples of docs/datasets.md run, in order, against the app and answer what they say."""

import re
import shlex
from pathlib import Path

DOC = Path(__file__).parents[2] / "docs" / "datasets.md"
EXPECTED = re.compile(r"#\s*→\s*(\d{3})\s*$")


def examples() -> list[tuple[str, int]]:
    """Every curl command of the doc's sh blocks, with the status its `# → NNN` comment says."""
    blocks = re.findall(r"```sh\n(.*?)```", DOC.read_text(), re.DOTALL)
    commands = [
        command
        for block in blocks
        for command in re.split(r"\n(?=curl )", block.replace("\\\n", " ").strip())
    ]
    found = [
        (command, EXPECTED.search(command.strip())) for command in commands if command.startswith("curl")
    ]
    return [(command, int(status.group(1)) if status else 200) for command, status in found]


def file_named(name: str) -> bytes:
    """A file the examples upload: the doc shows it in a csv block introduced by its name, or it is a file
    of the test's own (a variable the test sets to a path)."""
    if Path(name).is_absolute() and Path(name).is_file():
        return Path(name).read_bytes()
    shown = re.search(rf"`{re.escape(name)}`:\n\n```csv\n(.*?)```", DOC.read_text(), re.DOTALL)
    assert shown, f"docs/datasets.md does not show {name}"
    return shown.group(1).encode()


def request_of(command: str, variables: dict[str, str]) -> dict:
    """What curl would send: method, URL, headers and body (only the options the doc uses)."""
    for name, value in variables.items():
        command = command.replace(f"${name}", value)
    words = iter(shlex.split(command, comments=True)[1:])
    sent: dict = {"method": "GET", "headers": {}, "content": None}
    for word in words:
        if word == "-X":
            sent["method"] = next(words)
        elif word == "-H":
            name, _, value = next(words).partition(":")
            sent["headers"][name.strip()] = value.strip()
        elif word in {"-d", "--data-binary"}:
            body = next(words)
            sent["content"] = file_named(body[1:]) if body.startswith("@") else body.encode()
            sent["method"] = "POST" if sent["method"] == "GET" else sent["method"]
        elif word == "-o":
            next(words)
        elif not word.startswith("-"):
            sent["url"] = word
    return sent


def test_the_doc_has_examples_for_every_policy():
    shown = " ".join(command for command, _ in examples())
    assert all(f'"policy": "{policy}"' in shown for policy in ("open", "gated", "priced", "federated"))


def test_the_curl_examples_answer_as_documented(client, owner_headers, reader_headers, reader, fund):
    fund(reader, 50)
    variables = {
        "COMMONS": "http://testserver",
        "READER_TOKEN": reader_headers["Authorization"].removeprefix("Bearer "),
        "TOKEN": owner_headers["Authorization"].removeprefix("Bearer "),
    }
    for command, status in examples():
        sent = request_of(command, variables)
        answer = client.request(sent["method"], sent["url"], headers=sent["headers"], content=sent["content"])
        assert answer.status_code == status, f"{command}\n→ {answer.status_code} {answer.text[:300]}"
