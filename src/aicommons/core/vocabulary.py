"""Controlled vocabularies shared by every domain: sectors, regions and language codes."""

import re
from enum import StrEnum


class Sector(StrEnum):
    AGRICULTURE = "agriculture"
    CLIMATE = "climate"
    EDUCATION = "education"
    ENERGY = "energy"
    FINANCE = "finance"
    HEALTH = "health"
    HUMANITARIAN = "humanitarian"
    JUSTICE = "justice"
    LABOUR = "labour"
    MEDIA = "media"
    PUBLIC_SECTOR = "public-sector"
    RESEARCH = "research"
    TECHNOLOGY = "technology"
    TRANSPORT = "transport"
    WATER = "water"


class Region(StrEnum):
    GLOBAL = "global"
    AFRICA = "africa"
    AMERICAS = "americas"
    ASIA = "asia"
    EUROPE = "europe"
    OCEANIA = "oceania"


LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}$")  # ISO 639-1 or 639-3
