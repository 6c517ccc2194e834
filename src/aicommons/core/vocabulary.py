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


class RiskDomain(StrEnum):
    """The seven domains of the MIT AI Risk Repository's domain taxonomy."""

    DISCRIMINATION = "discrimination-toxicity"
    PRIVACY = "privacy-security"
    MISINFORMATION = "misinformation"
    MISUSE = "malicious-actors-misuse"
    INTERACTION = "human-computer-interaction"
    SOCIOECONOMIC = "socioeconomic-environmental"
    SAFETY = "system-safety-failures-limitations"


class RiskEntity(StrEnum):
    """The MIT AI Risk Repository's causal taxonomy: who or what causes the risk."""

    HUMAN = "human"
    AI = "ai"
    OTHER = "other"


class RiskIntent(StrEnum):
    """The causal taxonomy's intent: an expected outcome of a choice, or not."""

    INTENTIONAL = "intentional"
    UNINTENTIONAL = "unintentional"
    OTHER = "other"


class RiskTiming(StrEnum):
    """The causal taxonomy's timing: before or after the AI system was deployed."""

    PRE_DEPLOYMENT = "pre-deployment"
    POST_DEPLOYMENT = "post-deployment"
    OTHER = "other"


class HarmType(StrEnum):
    """The OECD AI Incidents Monitor's types of harm."""

    PHYSICAL = "physical"
    PSYCHOLOGICAL = "psychological"
    ECONOMIC = "economic-property"
    REPUTATIONAL = "reputational"
    ENVIRONMENTAL = "environmental"
    PUBLIC_INTEREST = "public-interest"
    HUMAN_RIGHTS = "human-rights"
