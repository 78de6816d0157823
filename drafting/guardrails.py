"""Rules that flag a reply before it reaches a fan: off-platform contact, meetings, links, false claims."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from drafting import pattern_check
from drafting.persona import CustomRule, Offer, Persona

_INVISIBLE = re.compile("[\u00ad\u200b-\u200f\u2060-\u2064\ufeff]")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\uff07": "'"})
_AMOUNT = re.compile(
    r"(?:[$€£¥₽]\s?(\d+(?:[.,]\d{1,2})?))"
    r"|(?:(\d+(?:[.,]\d{1,2})?)\s?(?:[$€£¥₽円]|usd\b|eur\b|gbp\b|dollars?\b|bucks\b|euros?\b|pounds?\b|руб))"
)
_TIP_NEARBY = re.compile(r"\btips?\b|чаев|チップ|小费|打赏")
_PROMISE = re.compile(
    r"\b(?:i'?ll|i will|i'?m going to|im going to|i'?m gonna|gonna|let me|i can|i could)\s+"
    r"(?:send|make|film|record|shoot|post|drop|upload|give)\b"
    r"|\b(?:for free|free (?:pics?|photos?|videos?|vids?|content|nudes?))\b"
    r"|\b(?:custom|exclusive|private|special|personal)\s+(?:videos?|vids?|pics?|photos?|sets?|content)\b"
)


@dataclass(frozen=True)
class Flag:
    """One rule a text breaks, with the words that broke it."""

    rule: str
    message: str
    match: str

    def to_dict(self) -> dict[str, str]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Flag:
        return cls(
            rule=str(data.get("rule", "")),
            message=str(data.get("message", "")),
            match=str(data.get("match", "")),
        )


@dataclass(frozen=True)
class Rule:
    """A named set of patterns, matched against the normalised text."""

    name: str
    message: str
    patterns: tuple[re.Pattern[str], ...]

    def find(self, normalised: str) -> str | None:
        for pattern in self.patterns:
            found = pattern.search(normalised)
            if found:
                return found.group(0).strip()
        return None


def _rule(name: str, message: str, *patterns: str) -> Rule:
    return Rule(name, message, tuple(re.compile(p, re.IGNORECASE) for p in patterns))


BUILT_IN: tuple[Rule, ...] = (
    _rule(
        "other-apps",
        "moves the fan to another app or site",
        r"\bsnap\s*chat\b|\b(?:my|on|add me on)\s+snap\b|\binsta(?:gram)?\b|\b(?:on|my)\s+ig\b"
        r"|\bwhats\s*app\b|\btelegram\b|\bkik\b|\bdiscord\b|\bonly\s*fans\b|\bfansly\b|\bpatreon\b"
        r"|\bwechat\b|\btik\s*tok\b|\bskype\b|\bface\s*time\b|\btwitter\b|\breddit\b|\bviber\b"
        r"|\b(?:on|via)\s+signal\b|\bline\s*(?:app|id)\b|\bdm me (?:on|at|there)\b",
        r"телеграм|\bтелег[аеу]\b|ватсап|вотсап|инстаграм|\bинст[аеу]\b|вайбер"
        r"|微信|电报|ライン|インスタ|テレグラム|واتساب|وتساب|تلغرام|تيليجرام|انستغرام|انستقرام|سناب",
    ),
    _rule(
        "contact-details",
        "shares or asks for a phone number or e-mail address",
        r"(?<![\w+])\+\d[\d\s().-]{5,}\d(?!\d)",
        r"(?<!\d)(?:\d[\s().-]?){9,}(?!\d)",
        r"[\w.+-]+@[\w-]+\.[\w.-]+",
        r"\be-?mail\b|\bgmail\b|\bhotmail\b|\byahoo\b|\boutlook\.|\bicloud\b|\bproton\s*mail\b",
        r"\b(?:text|call|phone|ring)\s+me\b|\bmy (?:number|phone|cell|mobile)\b|\byour (?:number|phone number)\b",
        r"номер телефона|мой номер|电话号码|電話番号|رقم (?:هاتفي|الهاتف|جوالي)",
    ),
    _rule(
        "outside-payment",
        "asks for payment outside Fanvue",
        r"\bpay\s*pal\b|\bvenmo\b|\bcash\s*app\b|\bzelle\b|\brevolut\b|\bwestern union\b|\bmoneygram\b"
        r"|\bbitcoin\b|\bbtc\b|\bcrypto\b|\busdt\b|\bethereum\b|\b(?:bank|wire) transfer\b|\biban\b"
        r"|\bgift\s*cards?\b|\bwish\s*list\b|\bko-fi\b|\bbuy me a coffee\b|\bapple pay\b|\bgoogle pay\b"
        r"|\bskrill\b|\bthrone\b",
        r"перев[ео]д\w* на карт|сбер|支付宝|微信支付|تحويل بنكي",
    ),
    _rule(
        "meeting",
        "suggests meeting in person",
        r"\b(?:let'?s|we (?:could|should|can)|wanna|want to|can we|could we|i'?d love to|when can we)\s+"
        r"(?:meet|hang out|get together|link up|see each other)\b",
        r"\bmeet (?:up|in person|irl|for (?:a )?(?:drink|drinks|coffee|dinner|date))\b|\bmeet(?:ing)? up\b",
        r"\bin person\b|\birl\b|\bin real life\b|\bcome over\b|\b(?:my|your) place\b|\bhotel room\b"
        r"|\bvisit (?:you|me)\b|\bmy address\b",
        r"встрет\w*|вживую|会おう|会いましょう|会える|见面|見面|约会|نلتقي|نتقابل",
    ),
    _rule(
        "links",
        "contains a link",
        r"\bhttps?://\S+|\bwww\.\S+|\bt\.me/\S*|\blinktr\.ee\b|\bbit\.ly\b",
        r"\b[\w-]+\.(?:com|net|org|io|me|co|ly|link|app|xyz|gg|tv|page|site|info|biz|uk|de|fr|ru|cn|jp)\b",
    ),
    _rule(
        "online-now",
        "claims the creator is online or doing something right now",
        r"\bonline\b|\bright now\b|\bas we speak\b|\bat the moment\b|\bcurrently\b|\brn\b|\batm\b",
        r"\b(?:i'?m|i am|im)\s+(?:awake|up|in bed|in the (?:shower|bath|gym)|at (?:the )?(?:gym|beach|pool|home|work)"
        r"|lying|laying|sitting|getting ready|on my way|free now)\b",
        r"\bjust (?:woke up|got (?:home|back|out|in|off))\b",
        r"онлайн|\bсейчас\b|オンライン|今は|在线|现在|متصل|الآن",
    ),
)


class Guardrails:
    """Built-in rules plus the persona's own; `check` lists every rule a text breaks."""

    def __init__(self, rules: Iterable[Rule] = BUILT_IN, offers: Iterable[Offer] = ()):
        self.rules = tuple(rules)
        self.offers = tuple(offers)
        self._allowed_amounts = {a for offer in self.offers if offer.price for a in _amounts(offer.price)}

    @classmethod
    def for_persona(cls, persona: Persona) -> Guardrails:
        return cls((*BUILT_IN, *(_custom(rule) for rule in persona.rules)), persona.offers)

    def check(self, text: str) -> list[Flag]:
        normalised = normalise(text)
        flags = [
            Flag(rule.name, rule.message, found)
            for rule in self.rules
            if (found := rule.find(normalised)) is not None
        ]
        flags += self._prices(normalised) + self._promises(normalised)
        return flags

    def _prices(self, normalised: str) -> list[Flag]:
        for match in _AMOUNT.finditer(normalised):
            value = _number(match.group(1) or match.group(2))
            nearby = normalised[max(0, match.start() - 25) : match.end() + 25]
            if value in self._allowed_amounts or _TIP_NEARBY.search(nearby):
                continue
            listed = ", ".join(f"{o.name} {o.price}" for o in self.offers if o.price) or "none"
            return [
                Flag(
                    "unlisted-price",
                    f"names a price the persona does not list (listed: {listed})",
                    match.group(0).strip(),
                )
            ]
        return []

    def _promises(self, normalised: str) -> list[Flag]:
        found = _PROMISE.search(normalised)
        if found is None:
            return []
        if any(normalise(offer.name) in normalised for offer in self.offers):
            return []
        listed = ", ".join(o.name for o in self.offers) or "none"
        return [
            Flag(
                "content-promise",
                f"promises content the persona does not list (listed: {listed})",
                found.group(0).strip(),
            )
        ]


def normalise(text: str) -> str:
    """Folds full-width forms, curly apostrophes and case; drops invisible characters."""
    return _INVISIBLE.sub("", unicodedata.normalize("NFKC", text)).translate(_APOSTROPHES).casefold()


def describe(flags: Iterable[Flag]) -> str:
    """`rule: message ("match")`, one flag after another, for cards and modals."""
    return "; ".join(f"{f.rule}: {f.message} (“{f.match}”)" for f in flags)


def _custom(rule: CustomRule) -> Rule:
    words = [rf"(?<!\w){re.escape(normalise(word))}(?!\w)" for word in rule.words]
    # The flags the persona's patterns were checked with when the file was loaded (drafting/pattern_check).
    return Rule(
        rule.name, rule.message, tuple(re.compile(p, pattern_check.FLAGS) for p in (*words, *rule.patterns))
    )


def _amounts(price: str) -> set[float]:
    return {_number(m) for m in re.findall(r"\d+(?:[.,]\d{1,2})?", normalise(price))}


def _number(raw: str) -> float:
    return float(raw.replace(",", "."))
