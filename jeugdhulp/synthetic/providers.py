"""The provider population: AGB codes, names, contract types, product portfolios, market weights and behaviour."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from jeugdhulp.synthetic.months import month_index
from jeugdhulp.synthetic.municipalities import Municipality
from jeugdhulp.synthetic.randomness import rng_for

# archetype: (share of providers, products offered, market weight scale, Zipf exponent by rank)
_ARCHETYPES: dict[str, tuple[float, tuple[str, ...], float, float]] = {
    "multi": (
        4 / 150,
        ("45A48", "54002", "54003", "41A00", "41A03", "42A01", "44A25", "44A26", "44A27", "44A08"),
        2.7,
        0.5,
    ),
    "residential": (8 / 150, ("44A25", "44A26", "44A27", "45A48"), 4.0, 0.7),
    "gezinshuis": (6 / 150, ("44A08",), 2.0, 0.5),
    "ggz": (22 / 150, ("54001", "54002", "54003", "54004"), 2.5, 0.9),
    "dyslexie": (6 / 150, ("54D01",), 3.0, 0.8),
    "dagbehandeling": (6 / 150, ("41A00", "41A03", "42A01"), 3.0, 0.8),
    "vervoer": (3 / 150, ("42A01",), 3.0, 0.8),
    "maatwerk": (10 / 150, ("50A01", "45A48"), 1.0, 0.6),
    "ambulant": (85 / 150, ("45A48",), 1.0, 0.75),
}
# archetypes whose providers work everywhere in their region; the others are local practices
_REGION_WIDE = frozenset(
    {"multi", "residential", "gezinshuis", "dyslexie", "dagbehandeling", "vervoer"}
)

_NAME_HEADS = (
    "Jeugdzorg",
    "Stichting",
    "Praktijk",
    "Centrum",
    "Kinderpraktijk",
    "Zorggroep",
    "Jeugdhulp",
    "Gezinspraktijk",
    "Therapiepraktijk",
    "Orthopedagogiek",
)
_NAME_HEADS_BY_ARCHETYPE = {
    "ggz": ("GGZ", "Psychologenpraktijk", "Kinder- en Jeugdpsychiatrie", "Jeugd-GGZ"),
    "dyslexie": ("Dyslexiecentrum", "Lees- en Dyslexiepraktijk"),
    "gezinshuis": ("Gezinshuis",),
    "vervoer": ("Zorgvervoer", "Taxi en Zorgvervoer"),
    "residential": ("Jeugdzorg", "Behandelgroep", "Woongroep"),
}
_NAME_TAILS = (
    "De Linde",
    "Het Anker",
    "Zonnebloem",
    "De Brug",
    "Kompas",
    "Horizon",
    "De Waterlelie",
    "Rijnstroom",
    "Duinzicht",
    "Bollenstreek",
    "Het Groene Hart",
    "De Vlinder",
    "Klimop",
    "Lichtpunt",
    "De Regenboog",
    "Vuurtoren",
    "Oase",
    "De Kastanje",
    "Het Baken",
    "Meander",
    "De Zandloper",
    "Wilgenhof",
    "De Boomgaard",
    "Zeewind",
    "De Molen",
    "Het Kabouterhuis",
    "Sterk Thuis",
    "Samen Verder",
    "Kindkracht",
    "Het Palet",
    "De Ooievaar",
    "Polderlicht",
    "Tulpenveld",
    "De Wieken",
    "Het Rijnland",
    "Veenweide",
    "De Singel",
    "Rapenburg",
)


@dataclass(frozen=True, slots=True)
class InvoicingBehaviour:
    """How a provider invoices; drawn once per provider so every municipality sees the same habits."""

    kind: str  # punctual | normal | sloppy | skipping
    declaration_day: int  # usual day of the month after the care month on which it declares
    late_line_share: float  # lines that slip into a later month's declaration
    very_late_share: float  # lines sent 4-15 months late, often after the year's accounts
    late_declaration_share: float  # declarations sent a month late as a whole
    rejection_share: float  # lines sent with too much volume (rejected, 9321) and re-sent
    correction_share: float  # lines credited and re-debited with another volume later
    skipped_months: frozenset[int]  # month indexes with no declaration at all (caught up later)

    @property
    def clean(self) -> bool:
        """Punctual providers invoice completely, on time and without errors."""
        return self.kind == "punctual"


@dataclass(frozen=True, slots=True)
class Provider:
    index: int
    agb: str
    name: str
    contract_type: str  # raamcontract | maatwerk | nee_tenzij | expertteam
    archetype: str
    products: tuple[str, ...]
    weights: tuple[float, ...]  # market weight per product, same order
    municipalities: frozenset[str] | None  # codes it serves; None = every municipality
    behaviour: InvoicingBehaviour
    ceiling_plan: str  # crossing | underspend | on_course | none (no ceiling: not raamcontract)
    ceiling_factor: float  # ceiling = full-year care cost x factor
    # purchasing-office cases (mark_purchasing_cases): every volume this provider is allocated is
    # multiplied by volume_factor, and by (1 + volume_growth) for each year after the first
    volume_factor: float = 1.0
    volume_growth: float = 0.0

    def serves(self, municipality_code: str) -> bool:
        return self.municipalities is None or municipality_code in self.municipalities

    def weight_for(self, product_code: str) -> float:
        try:
            return self.weights[self.products.index(product_code)]
        except ValueError:
            return 0.0


@dataclass(frozen=True, slots=True)
class ProviderPlan:
    """What the generator needs to know about time when it draws behaviour."""

    first_month: int  # first care month that is invoiced
    last_skippable_month: int  # a skipped month must be caught up by as_of


def invoicing_behaviour(kind: str, rng: random.Random, plan: ProviderPlan) -> InvoicingBehaviour:
    if kind == "punctual":
        return InvoicingBehaviour(kind, rng.randint(3, 12), 0.0, 0.0, 0.0, 0.0, 0.0, frozenset())
    sloppy = kind == "sloppy"
    skipped: set[int] = set()
    if kind == "skipping" and plan.last_skippable_month >= plan.first_month:
        months = list(range(plan.first_month, plan.last_skippable_month + 1))
        wanted = max(1, round(len(months) / 12 * rng.uniform(2.0, 3.5)))
        skipped.update(rng.sample(months, min(wanted, len(months))))
    return InvoicingBehaviour(
        kind=kind,
        declaration_day=rng.randint(5, 24),
        late_line_share=rng.uniform(0.10, 0.22) if sloppy else rng.uniform(0.02, 0.07),
        very_late_share=rng.uniform(0.01, 0.025) if sloppy else rng.uniform(0.002, 0.006),
        late_declaration_share=0.15 if sloppy else 0.03,
        rejection_share=rng.uniform(0.012, 0.03),
        correction_share=rng.uniform(0.008, 0.02),
        skipped_months=frozenset(skipped),
    )


def _unique_agb(rng: random.Random, prefix: str, taken: set[str]) -> str:
    while True:
        agb = f"{prefix}{rng.randrange(10**6):06d}"
        if agb not in taken:
            taken.add(agb)
            return agb


def _name(rng: random.Random, archetype: str, taken: set[str]) -> str:
    heads = _NAME_HEADS_BY_ARCHETYPE.get(archetype, _NAME_HEADS)
    for attempt in range(50):
        name = f"{rng.choice(heads)} {rng.choice(_NAME_TAILS)}"
        if attempt > 20:
            name = f"{name} {attempt}"
        if name not in taken:
            taken.add(name)
            return name
    raise RuntimeError("could not find a unique provider name")


def _archetype_counts(count: int) -> list[str]:
    """Archetype per provider rank, in a fixed order (large multi-function providers first)."""
    names = list(_ARCHETYPES)
    counts = {name: max(1, round(share * count)) for name, (share, *_) in _ARCHETYPES.items()}
    counts["ambulant"] = max(1, count - sum(v for k, v in counts.items() if k != "ambulant"))
    order: list[str] = []
    for name in names:
        order.extend([name] * counts[name])
    return order[:count]


def build_providers(
    seed: int,
    count: int,
    municipalities: list[Municipality],
    plan: ProviderPlan,
    *,
    region: int | None = None,
    first_index: int = 0,
    taken_agbs: set[str] | None = None,
    taken_names: set[str] | None = None,
) -> list[Provider]:
    """`count` providers for the municipalities given (one youth-care region)."""
    rng = rng_for(seed, "providers", region)
    taken_agbs = set() if taken_agbs is None else taken_agbs
    taken_names = set() if taken_names is None else taken_names
    archetypes = _archetype_counts(count)
    codes = [m.code for m in municipalities]
    sizes = [m.youths_in_care for m in municipalities]
    providers = []
    rank_in_archetype: dict[str, int] = {}
    for position, archetype in enumerate(archetypes):
        _, offered, scale, exponent = _ARCHETYPES[archetype]
        rank = rank_in_archetype[archetype] = rank_in_archetype.get(archetype, 0) + 1
        products = list(offered)
        if archetype == "ambulant" and rng.random() < 0.2:
            products.append("54002")
        if archetype == "multi" and rank > 2:
            products.remove("44A27")
        # bounded noise: one lucky draw must not make a provider a third of the market
        base = scale / rank**exponent * min(1.3, max(0.6, math.exp(rng.gauss(0.0, 0.35))))
        if archetype == "ambulant" and rank > 70:
            base *= 0.4  # the very small practices at the tail: a few clients a year
        weights = tuple(round(base * rng.uniform(0.6, 1.4), 4) for _ in products)
        if archetype in _REGION_WIDE or (archetype == "ggz" and rank <= 8):
            served = None
        else:
            wanted = min(len(codes), rng.choice((1, 1, 2, 2, 3, 4)))
            served = set()
            while len(served) < wanted:
                served.add(rng.choices(codes, weights=sizes)[0])
            served = frozenset(served)
        if region is not None and served is None:
            served = frozenset(codes)
        contract_type = "raamcontract"
        if archetype == "maatwerk":
            contract_type = "maatwerk"
        elif archetype == "ambulant" and rng.random() < 0.07:
            contract_type = "nee_tenzij"
        elif archetype == "residential" and rank == _count(archetypes, "residential"):
            contract_type = "expertteam"
        kind = rng.choices(("punctual", "normal", "sloppy", "skipping"), weights=(15, 55, 20, 10))[
            0
        ]
        behaviour_rng = rng_for(seed, "behaviour", region, position)
        ceiling_plan, factor = _ceiling_plan(rng, contract_type)
        prefix = "94" if archetype == "ggz" else "98" if archetype != "ambulant" else "75"
        providers.append(
            Provider(
                index=first_index + position,
                agb=_unique_agb(rng, prefix, taken_agbs),
                name=_name(rng, archetype, taken_names),
                contract_type=contract_type,
                archetype=archetype,
                products=tuple(products),
                weights=weights,
                municipalities=served,
                behaviour=invoicing_behaviour(kind, behaviour_rng, plan),
                ceiling_plan=ceiling_plan,
                ceiling_factor=factor,
            )
        )
    return providers


def _count(items: list[str], value: str) -> int:
    return sum(1 for item in items if item == value)


def _ceiling_plan(rng: random.Random, contract_type: str) -> tuple[str, float]:
    """Budget ceilings only bind framework contracts; some are set to be crossed, some to be left unspent."""
    if contract_type != "raamcontract":
        return "none", 0.0
    draw = rng.random()
    if draw < 0.09:
        return "crossing", rng.uniform(0.78, 0.88)
    if draw < 0.20:
        return "underspend", rng.uniform(1.45, 1.75)
    return "on_course", rng.uniform(1.07, 1.17)


def tiny_providers(
    seed: int, municipalities: list[Municipality], plan: ProviderPlan
) -> list[Provider]:
    """Three hand-shaped providers that between them show every behaviour the pipeline must handle."""
    rng = rng_for(seed, "tiny-providers")
    taken: set[str] = set()
    names: set[str] = set()
    shapes = (
        (
            "multi",
            ("45A48", "54003", "41A00", "42A01", "44A27", "44A08"),
            "sloppy",
            "crossing",
            0.82,
        ),
        ("ggz", ("54001", "54002", "54D01", "50A01"), "skipping", "on_course", 1.12),
        ("ambulant", ("45A48", "54002"), "punctual", "underspend", 1.6),
    )
    providers = []
    for index, (archetype, products, kind, ceiling_plan, factor) in enumerate(shapes):
        behaviour = invoicing_behaviour(kind, rng_for(seed, "tiny-behaviour", index), plan)
        if kind == "sloppy":
            # a tiny world has few lines: make the tail and the errors visible at that size
            behaviour = InvoicingBehaviour(
                kind, behaviour.declaration_day, 0.2, 0.04, 0.15, 0.05, 0.05, frozenset()
            )
        providers.append(
            Provider(
                index=index,
                agb=_unique_agb(rng, "98" if index != 1 else "94", taken),
                name=_name(rng, archetype, names),
                contract_type="raamcontract",
                archetype=archetype,
                products=products,
                weights=tuple(1.0 for _ in products),
                municipalities=None,
                behaviour=behaviour,
                ceiling_plan=ceiling_plan,
                ceiling_factor=factor,
            )
        )
    return providers


# the purchasing-office cases of the region profile (docs/purchasing_marts.md): the two largest
# local practices in the bulk product, one billing far more hours per client than everyone else,
# one whose hours per client rise year on year
BULK_PRODUCT = "45A48"
OUTLIER_VOLUME_FACTOR = 2.5
RISING_VOLUME_GROWTH = 0.35


def mark_purchasing_cases(providers: list[Provider]) -> list[Provider]:
    """The providers with the region's outlier (the largest ambulant practice in the bulk product)
    and its rising provider (the second largest) marked; the others unchanged."""
    from dataclasses import replace

    candidates = sorted(
        (p for p in providers if p.archetype == "ambulant" and p.weight_for(BULK_PRODUCT) > 0),
        key=lambda p: (-p.weight_for(BULK_PRODUCT), p.agb),
    )
    if len(candidates) < 2:
        return providers
    outlier, rising = candidates[0].agb, candidates[1].agb
    marked = []
    for provider in providers:
        if provider.agb == outlier:
            provider = replace(provider, volume_factor=OUTLIER_VOLUME_FACTOR)
        elif provider.agb == rising:
            provider = replace(provider, volume_growth=RISING_VOLUME_GROWTH)
        marked.append(provider)
    return marked


def last_skippable_month(as_of_month: int) -> int:
    """The last care month a provider may skip and still have caught up (declared) by as_of."""
    return as_of_month - 3


def plan_for(first_year: int, as_of) -> ProviderPlan:
    return ProviderPlan(
        first_month=first_year * 12, last_skippable_month=last_skippable_month(month_index(as_of))
    )
