"""The SPDX license identifiers a dataset may carry, with the page that explains each."""

SPDX_LICENSES: dict[str, str] = {
    name: f"https://spdx.org/licenses/{name}.html"
    for name in (
        "CC0-1.0",
        "CC-BY-4.0",
        "CC-BY-SA-4.0",
        "CC-BY-NC-4.0",
        "CC-BY-NC-SA-4.0",
        "CC-BY-ND-4.0",
        "CC-BY-NC-ND-4.0",
        "CC-BY-3.0",
        "CC-BY-SA-3.0",
        "PDDL-1.0",
        "ODC-By-1.0",
        "ODbL-1.0",
        "CDLA-Permissive-1.0",
        "CDLA-Permissive-2.0",
        "CDLA-Sharing-1.0",
        "C-UDA-1.0",
        "O-UDA-1.0",
        "OGL-UK-3.0",
        "OGL-Canada-2.0",
        "etalab-2.0",
        "DL-DE-BY-2.0",
        "DL-DE-ZERO-2.0",
        "NLOD-2.0",
        "Apache-2.0",
        "MIT",
        "BSD-2-Clause",
        "BSD-3-Clause",
        "MPL-2.0",
        "GPL-3.0-only",
        "GPL-3.0-or-later",
        "LGPL-3.0-only",
        "AGPL-3.0-only",
        "Unlicense",
    )
}


def license_url(identifier: str) -> str:
    return SPDX_LICENSES.get(identifier, "https://spdx.org/licenses/")
