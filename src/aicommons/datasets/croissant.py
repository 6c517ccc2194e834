"""Croissant 1.0 and schema.org Dataset metadata: datasets described for ML tools and search engines."""

import copy
import re
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from aicommons.communities.schemas import Slug
from aicommons.core.errors import CommonsError, ErrorCode
from aicommons.datasets.licenses import SPDX_LICENSES, license_url
from aicommons.datasets.models import Dataset, DatasetVersion, Policy
from aicommons.datasets.schemas import DatasetCreate

CONFORMS_TO = "http://mlcommons.org/croissant/1.0"
PARQUET = "application/x-parquet"
# The @context of the Croissant 1.0 specification's examples; mlcroissant warns when a key is missing.
CONTEXT: dict[str, Any] = {
    "@language": "en",
    "@vocab": "https://schema.org/",
    "citeAs": "cr:citeAs",
    "column": "cr:column",
    "conformsTo": "dct:conformsTo",
    "cr": "http://mlcommons.org/croissant/",
    "rai": "http://mlcommons.org/croissant/RAI/",
    "data": {"@id": "cr:data", "@type": "@json"},
    "dataType": {"@id": "cr:dataType", "@type": "@vocab"},
    "dct": "http://purl.org/dc/terms/",
    "equivalentProperty": "cr:equivalentProperty",
    "examples": {"@id": "cr:examples", "@type": "@json"},
    "extract": "cr:extract",
    "field": "cr:field",
    "fileProperty": "cr:fileProperty",
    "fileObject": "cr:fileObject",
    "fileSet": "cr:fileSet",
    "format": "cr:format",
    "includes": "cr:includes",
    "isLiveDataset": "cr:isLiveDataset",
    "jsonPath": "cr:jsonPath",
    "key": "cr:key",
    "md5": "cr:md5",
    "parentField": "cr:parentField",
    "path": "cr:path",
    "recordSet": "cr:recordSet",
    "references": "cr:references",
    "regex": "cr:regex",
    "repeated": "cr:repeated",
    "replace": "cr:replace",
    "samplingRate": "cr:samplingRate",
    "sc": "https://schema.org/",
    "separator": "cr:separator",
    "source": "cr:source",
    "subField": "cr:subField",
    "transform": "cr:transform",
}
FIELD_TYPES = {
    "integer": "sc:Integer",
    "float": "sc:Float",
    "boolean": "sc:Boolean",
    "date": "sc:Date",
    "datetime": "sc:Date",
    "string": "sc:Text",
}
# Datasheet sections with a home in the Croissant RAI vocabulary; the others travel in the description.
RAI_SECTIONS = {
    "collection_process": "rai:dataCollection",
    "preprocessing": "rai:dataPreprocessingProtocol",
    "uses": "rai:dataUseCases",
    "maintenance": "rai:dataReleaseMaintenancePlan",
}
DESCRIBED_SECTIONS = ("motivation", "composition", "distribution")
HEADING = re.compile(r"^## (Motivation|Composition|Distribution)[ \t]*$", re.MULTILINE)
DATASET_TYPES = {
    "sc:Dataset",
    "schema:Dataset",
    "Dataset",
    "https://schema.org/Dataset",
    "http://schema.org/Dataset",
}
ACCESS = {
    Policy.OPEN: "Anyone may download the data.",
    Policy.GATED: "The owner approves each request for access.",
    Policy.PRICED: "A time-boxed license is bought with tokens.",
    Policy.FEDERATED: "The rows stay on the owner's node; only the schema and chosen figures are published.",
}


class ImportChoices(BaseModel):
    """What a Croissant document does not say and the importing member chooses."""

    model_config = ConfigDict(extra="forbid")

    policy: Policy = Policy.OPEN
    price: int = Field(default=0, ge=0, le=10**9)
    community: Slug | None = None


# --- out ------------------------------------------------------------------------------------------


def export(dataset: Dataset, versions: Sequence[DatasetVersion], base_url: str) -> dict[str, Any]:
    """The dataset as a Croissant 1.0 JSON-LD document; federated data is described without a file."""
    newest = newest_live(versions)
    document: dict[str, Any] = {
        "@context": copy.deepcopy(CONTEXT),
        "@type": "sc:Dataset",
        "conformsTo": CONFORMS_TO,
        **_common(dataset, newest, base_url),
        "description": _description(dataset),
        "citeAs": _citation(dataset, newest, base_url),
        **_rai(dataset.datasheet),
    }
    if newest is None:
        return document
    if newest.blob_sha256 is None:
        return document | {"recordSet": _federated_record_sets(newest)}
    file_object = _file_object(dataset, newest, base_url)
    return document | {"distribution": [file_object], "recordSet": [_record_set(newest, file_object["@id"])]}


def schema_org(
    dataset: Dataset, versions: Sequence[DatasetVersion], base_url: str, *, catalog: str = "AI Commons"
) -> dict[str, Any]:
    """The dataset as a plain schema.org Dataset, for search engines (embedded in its page)."""
    newest = newest_live(versions)
    document = {
        "@context": "https://schema.org/",
        "@type": "Dataset",
        **_common(dataset, newest, base_url),
        "description": dataset.summary or dataset.title,
        "identifier": dataset.slug,
        "includedInDataCatalog": {"@type": "DataCatalog", "name": catalog, "url": f"{base_url}/datasets"},
    }
    if newest is not None:
        document["variableMeasured"] = [
            {"@type": "PropertyValue", "name": column["name"], "description": column["type"]}
            for column in newest.columns
        ]
        if newest.blob_sha256 is not None:
            document["distribution"] = [_data_download(dataset, newest, base_url)]
    return document


def newest_live(versions: Sequence[DatasetVersion]) -> DatasetVersion | None:
    """The newest version that was not withdrawn: the one both documents describe."""
    live = [found for found in versions if not found.withdrawn]
    return max(live, key=lambda found: found.number, default=None)


def _common(dataset: Dataset, newest: DatasetVersion | None, base_url: str) -> dict[str, Any]:
    facts: dict[str, Any] = {
        "name": dataset.title,
        "url": f"{base_url}/datasets/{dataset.slug}",
        "license": license_url(dataset.license),
        "keywords": list(dataset.keywords),
        "datePublished": dataset.created_at.isoformat(timespec="seconds"),
        "isAccessibleForFree": dataset.policy == Policy.OPEN,
        "conditionsOfAccess": ACCESS[Policy(dataset.policy)],
    }
    if creator := _creator(dataset, base_url):
        facts["creator"] = creator
    if newest is not None:
        facts["version"] = f"{newest.number}.0.0"
        facts["dateModified"] = newest.created_at.isoformat(timespec="seconds")
    return facts


def _creator(dataset: Dataset, base_url: str) -> dict[str, str] | None:
    if dataset.owner_community is not None:
        community = dataset.owner_community
        return {
            "@type": "Organization",
            "name": community.name,
            "url": f"{base_url}/communities/{community.slug}",
        }
    if dataset.owner_member is not None:
        member = dataset.owner_member
        return {"@type": "Person", "name": member.display_name, "url": f"{base_url}/members/{member.handle}"}
    return None


def _description(dataset: Dataset) -> str:
    """The summary, then the datasheet sections that RAI has no property for, under headings."""
    parts = [dataset.summary or dataset.title]
    for section in DESCRIBED_SECTIONS:
        if text := dataset.datasheet.get(section):
            parts.append(f"## {section.capitalize()}\n\n{text}")
    return "\n\n".join(parts)


def _citation(dataset: Dataset, newest: DatasetVersion | None, base_url: str) -> str:
    creator = _creator(dataset, base_url)
    version = f", version {newest.number}" if newest else ""
    author = f"{creator['name']}. " if creator else ""
    return f"{author}{dataset.title}{version}. {base_url}/datasets/{dataset.slug}"


def _rai(datasheet: Mapping[str, str]) -> dict[str, str]:
    return {prop: datasheet[section] for section, prop in RAI_SECTIONS.items() if datasheet.get(section)}


def _download_url(dataset: Dataset, found: DatasetVersion, base_url: str) -> str:
    return f"{base_url}/api/v1/datasets/{dataset.slug}/download?version={found.number}"


def _file_object(dataset: Dataset, found: DatasetVersion, base_url: str) -> dict[str, Any]:
    name = f"{dataset.slug}-v{found.number}.parquet"
    return {
        "@type": "cr:FileObject",
        "@id": name,
        "name": name,
        "description": f"Version {found.number} as Parquet ({found.row_count} rows).",
        "contentUrl": _download_url(dataset, found, base_url),
        "encodingFormat": PARQUET,
        "sha256": found.blob_sha256,
    }


def _record_set(found: DatasetVersion, file_id: str) -> dict[str, Any]:
    fields = [
        _field("records", column)
        | {"source": {"fileObject": {"@id": file_id}, "extract": {"column": column["name"]}}}
        for column in found.columns
    ]
    return {
        "@type": "cr:RecordSet",
        "@id": "records",
        "name": "records",
        "description": f"The {found.row_count} rows of version {found.number}.",
        "field": fields,
    }


def _field(record_set: str, column: Mapping[str, str]) -> dict[str, Any]:
    return {
        "@type": "cr:Field",
        "@id": f"{record_set}/{column['name']}",
        "name": column["name"],
        "dataType": FIELD_TYPES.get(column["type"], "sc:Text"),
    }


def _federated_record_sets(found: DatasetVersion) -> list[dict[str, Any]]:
    """The published schema as an enumeration of columns (no file to point at), and the synthetic sample.

    Croissant fields need a source or inline data; federated rows have neither, so the columns are data."""
    columns = {
        "@type": "cr:RecordSet",
        "@id": "columns",
        "name": "columns",
        "description": f"The columns of the {found.row_count} rows that stay on the owner's node.",
        "field": [_field("columns", {"name": name, "type": "string"}) for name in ("name", "dataType")],
        "data": [
            {"columns/name": column["name"], "columns/dataType": FIELD_TYPES.get(column["type"], "sc:Text")}
            for column in found.columns
        ],
    }
    return [columns, _sample(found)] if found.preview else [columns]


def _sample(found: DatasetVersion) -> dict[str, Any]:
    ids = [f"sample/{column['name']}" for column in found.columns]
    return {
        "@type": "cr:RecordSet",
        "@id": "sample",
        "name": "sample",
        "description": "A synthetic sample the owner published in place of the rows.",
        "field": [_field("sample", column) for column in found.columns],
        "data": [dict(zip(ids, [*row, *[None] * len(ids)], strict=False)) for row in found.preview],
    }


def _data_download(dataset: Dataset, found: DatasetVersion, base_url: str) -> dict[str, str]:
    return {
        "@type": "DataDownload",
        "encodingFormat": "application/vnd.apache.parquet",
        "contentUrl": _download_url(dataset, found, base_url),
    }


# --- in -------------------------------------------------------------------------------------------


def to_form(document: Any, choices: ImportChoices | None = None) -> DatasetCreate:
    """A registration form from a Croissant (or schema.org Dataset) JSON-LD document in compact form."""
    _require_dataset(document)
    summary, datasheet = _split_description(_text(document.get("description"))[:20_000])
    values = {
        "title": _required_name(document),
        "summary": summary[:5000],
        "license": spdx_id(document.get("license")),
        "keywords": _keywords(document.get("keywords")),
        "datasheet": datasheet | _rai_sections(document),
        **(choices or ImportChoices()).model_dump(),
    }
    try:
        return DatasetCreate.model_validate(values)
    except ValidationError as error:
        detail = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors()[:5])
        raise CommonsError(
            ErrorCode.VALIDATION_FAILED, f"the Croissant document does not fit: {detail}"
        ) from error


def _require_dataset(document: Any) -> None:
    if not isinstance(document, dict) or "@context" not in document:
        raise CommonsError(ErrorCode.VALIDATION_FAILED, "not a JSON-LD document: an object with an @context")
    types = document.get("@type")
    if not set(types if isinstance(types, list) else [types]) & DATASET_TYPES:
        raise CommonsError(ErrorCode.VALIDATION_FAILED, f"the document's @type is {types!r}, not sc:Dataset")


def _required_name(document: Mapping[str, Any]) -> str:
    name = _text(document.get("name")).strip()
    if not name:
        raise CommonsError(ErrorCode.VALIDATION_FAILED, "the Croissant document has no name")
    return name[:120]


def _text(value: Any) -> str:
    """A plain string from a JSON-LD value: a string, an @value, a language map or a list of them."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "\n\n".join(_text(item) for item in value)
    if isinstance(value, dict):
        found = value.get("@value", value.get("en", next(iter(value.values()), "")))
        return _text(found)
    return ""


def spdx_id(value: Any) -> str:
    """The SPDX identifier of a license given as an id, an SPDX or Creative Commons URL, or a node."""
    candidates = value if isinstance(value, list) else [value]
    named = [_license_name(candidate) for candidate in candidates]
    known = [found for found in map(_known_license, named) if found]
    if not known:
        shown = ", ".join(name for name in named if name) or "none"
        raise CommonsError(ErrorCode.UNKNOWN_LICENSE, f"no SPDX license the commons knows among: {shown}")
    return known[0]


def _license_name(value: Any) -> str:
    if isinstance(value, dict):
        return str(value.get("@id") or value.get("url") or value.get("identifier") or value.get("name") or "")
    return str(value or "").strip()


LOWER_IDS = {identifier.lower(): identifier for identifier in SPDX_LICENSES}
SPDX_URL = re.compile(r"^https?://spdx\.org/licenses/([^/]+?)(?:\.html|\.json)?/?$", re.IGNORECASE)
CC_URL = re.compile(r"^https?://creativecommons\.org/licenses/([a-z-]+)/(\d\.\d)", re.IGNORECASE)
CC0_URL = re.compile(r"^https?://creativecommons\.org/publicdomain/zero/1\.0", re.IGNORECASE)


def _known_license(name: str) -> str | None:
    if match := SPDX_URL.match(name):
        name = match.group(1)
    elif match := CC_URL.match(name):
        name = f"CC-{match.group(1)}-{match.group(2)}"
    elif CC0_URL.match(name):
        name = "CC0-1.0"
    return LOWER_IDS.get(name.lower())


def _keywords(value: Any) -> list[str]:
    """Keywords as the commons keeps them: at most 20, each under 41 characters."""
    items = value.split(",") if isinstance(value, str) else value if isinstance(value, list) else []
    words = [_text(item.get("name")) if isinstance(item, dict) else _text(item) for item in items]
    cleaned = [word.strip().lower() for word in words if 0 < len(word.strip()) <= 40]
    return list(dict.fromkeys(cleaned))[:20]


def _split_description(description: str) -> tuple[str, dict[str, str]]:
    """The summary and the datasheet sections that an export put under headings in the description."""
    pieces = HEADING.split(description)
    sections = {
        title.lower(): text.strip()[:10_000] for title, text in zip(pieces[1::2], pieces[2::2], strict=True)
    }
    return pieces[0].strip(), sections


def _rai_sections(document: Mapping[str, Any]) -> dict[str, str]:
    found = {section: _text(document.get(prop)).strip() for section, prop in RAI_SECTIONS.items()}
    return {section: text[:10_000] for section, text in found.items() if text}
