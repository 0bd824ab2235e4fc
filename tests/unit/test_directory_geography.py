"""The directory's offline gazetteer and distances, against distances worked out by hand."""

from __future__ import annotations

import math

import pytest

from lms.directory.geography import (
    EARTH_RADIUS_KM,
    UnknownPlace,
    bounding_box,
    haversine_km,
    normalize,
    resolve,
    resolve_city,
)

# Worked by hand with R = 6371.0088 km:
#   one degree of arc = R * pi / 180 = 111.1951 km (along a meridian, or along the equator);
#   a quarter of a great circle = R * pi / 2 = 10007.5572 km;  half (antipodes) = R * pi = 20015.1144 km.
HAND = [
    ((0, 0, 1, 0), 111.1951),
    ((0, 0, 0, 1), 111.1951),
    ((0, 0, 0, 90), 10007.5572),
    ((0, 0, 90, 0), 10007.5572),
    ((0, 0, 0, 180), 20015.1144),
    ((45, 10, -45, -170), 20015.1144),  # antipodal points
    ((12.5, 7.25, 12.5, 7.25), 0.0),
]


@pytest.mark.parametrize(("points", "km"), HAND)
def test_haversine_matches_hand_computed_distances(points, km):
    assert haversine_km(*points) == pytest.approx(km, abs=0.001)


def test_one_degree_of_longitude_at_60_degrees_north():
    # Hand computation: the parallel's arc is R cos 60° · π/180 = 55.5976 km; the great circle between the same two
    # points is a hair shorter: 2R·asin(cos 60° · sin 0.5°) = 55.5974 km.
    parallel = EARTH_RADIUS_KM * math.cos(math.radians(60)) * math.pi / 180
    assert parallel == pytest.approx(55.5976, abs=1e-3)
    assert haversine_km(60, 0, 60, 1) == pytest.approx(55.5974, abs=1e-3)
    assert haversine_km(60, 0, 60, 1) < parallel


def test_haversine_is_symmetric_and_crosses_the_antimeridian():
    assert haversine_km(49.25, -123.12, 47.61, -122.33) == pytest.approx(haversine_km(47.61, -122.33, 49.25, -123.12))
    assert haversine_km(0, 179.5, 0, -179.5) == pytest.approx(111.1951, abs=0.001)


@pytest.mark.parametrize(("lat", "lon", "radius"), [(49.25, -123.12, 50), (0, 0, 500), (70, 20, 300),
                                                     (-33.9, 151.2, 1000), (0, 179.9, 100)])
def test_bounding_box_holds_every_point_on_the_circle(lat, lon, radius):
    min_lat, max_lat, min_lon, max_lon = bounding_box(lat, lon, radius)
    for bearing in range(0, 360, 5):
        # The point at `radius` km on this bearing (direct geodesic problem on the sphere).
        d, b = radius / EARTH_RADIUS_KM, math.radians(bearing)
        p1, l1 = math.radians(lat), math.radians(lon)
        p2 = math.asin(math.sin(p1) * math.cos(d) + math.cos(p1) * math.sin(d) * math.cos(b))
        l2 = l1 + math.atan2(math.sin(b) * math.sin(d) * math.cos(p1), math.cos(d) - math.sin(p1) * math.sin(p2))
        plat, plon = math.degrees(p2), (math.degrees(l2) + 540) % 360 - 180
        assert haversine_km(lat, lon, plat, plon) == pytest.approx(radius, rel=1e-6)
        assert min_lat - 1e-9 <= plat <= max_lat + 1e-9
        assert min_lon - 1e-9 <= plon <= max_lon + 1e-9


@pytest.mark.parametrize(("text", "label", "jurisdiction"), [
    ("Vancouver", "Vancouver, BC, CA", "CA-BC"),  # the larger Vancouver first
    ("Vancouver, WA", "Vancouver, WA, US", "US-WA"),
    ("portland, maine", "Portland, ME, US", "US-ME"),
    ("Saint Catharines", "St. Catharines, ON, CA", "CA-ON"),
    ("Montreal", "Montréal, QC, CA", "CA-QC"),
    ("Winnipeg, Manitoba, Canada", "Winnipeg, MB, CA", "CA-MB"),
    ("98101", "ZIP 98101 (Seattle), WA, US", "US-WA"),
    ("v6b 1a1", "Postal district V6B (Vancouver), BC, CA", "CA-BC"),
])
def test_places_resolve_offline(text, label, jurisdiction):
    place = resolve(text).place
    assert place.label == label and place.jurisdiction == jurisdiction


def test_an_ambiguous_name_offers_the_other_places():
    found = resolve("Portland")
    assert found.place.label == "Portland, OR, US"
    assert "Portland, ME, US" in [a.label for a in found.alternatives]


@pytest.mark.parametrize("text", ["", "   ", "Qwertyburg", "Vancouver, Texas", "00000", "Z9Z", "x" * 500])
def test_unknown_places_raise_a_readable_message(text):
    with pytest.raises(UnknownPlace) as err:
        resolve(text)
    assert len(str(err.value)) > 20 and "Traceback" not in str(err.value)


def test_a_listing_city_cannot_be_a_postal_code():
    with pytest.raises(UnknownPlace, match="not a postal code"):
        resolve_city("V6B 1A1")
    assert resolve_city("Calgary").jurisdiction == "CA-AB"


def test_normalize_ignores_case_accents_and_saint_spellings():
    assert normalize("  St. JÉRÔME ") == normalize("saint jerome") == "saint jerome"
