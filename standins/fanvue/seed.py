"""Deterministic seeding of the sandbox: one creator, N fans, and a varied chat history each."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from .model import Chat, Message, Person

# Display name and handle stem; the first four are always used so every seed has non-Latin scripts and emoji.
NAMES = [
    ("Łukasz ✨", "lukasz"),
    ("さくら", "sakura"),
    ("Маша 💋", "masha"),
    ("أحمد", "ahmed"),
    ("Chloe", "chloe.b"),
    ("Marco 🇮🇹", "marco_it"),
    ("Priya", "priya"),
    ("Jake", "jake99"),
    ("Sven", "sven"),
    ("Aoife", "aoife"),
    ("José", "jose"),
    ("Dmitri", "dmitri"),
    ("李伟", "liwei"),
    ("Émilie 🌸", "emilie"),
    ("Kofi", "kofi"),
    ("Zoë", "zoe"),
    ("Ravi", "ravi"),
    ("Noah", "noah"),
    ("Olivia", "olivia"),
    ("Mateus", "mateus"),
    ("Hana 하나", "hana"),
    ("Björn", "bjorn"),
    ("Yusuf", "yusuf"),
    ("Fatima", "fatima"),
    ("Liam 🔥", "liam"),
    ("Ana", "ana"),
    ("Tom", "tom"),
    ("Kai", "kai"),
    ("Nina", "nina"),
    ("Leo", "leo"),
]
FAN_TEXTS = [
    "hey! how was your weekend?",
    "loved the new set 😍",
    "are you doing any customs this month?",
    "good morning ☀️",
    "that beach video was unreal",
    "do you ever post behind the scenes?",
    "what camera do you use?",
    "just subscribed, hi!",
    "miss your voice notes 🥺",
    "happy friday!! any plans?",
    "you looked amazing in the last post",
    "Cześć! 👋",
    "おはよう！新しい写真を楽しみにしてる",
    "Привет, как дела?",
    "مرحبا! كيف حالك؟",
    "can I request a shoutout for my birthday?",
    "saw your story, where was that?",
    "lol same",
]
CREATOR_TEXTS = [
    "thank you so much 🥰",
    "hey you! how's your week going?",
    "new set drops friday ✨",
    "haha you're sweet",
    "I shot it in Lisbon!",
    "glad you liked it!",
    "morning! ☕",
    "I'll think about it 😉",
    "thanks for being here 💕",
]
CAPTIONS = ["sneak peek 👀", "just for you", None, None]
MEDIA_TYPES = ["image", "video", "audio"]
# The first creator is the one a single-creator sandbox has always served.
CREATORS = [
    ("Mia Rivers", "mia-rivers"),
    ("Luna Park", "luna-park"),
    ("Ava Stone", "ava-stone"),
    ("Zara Quinn", "zara-quinn"),
    ("Nora Vale", "nora-vale"),
    ("Iris Bloom", "iris-bloom"),
]
UNREAD_SHARE = 0.7


@dataclass
class Seed:
    """Everything a World starts from."""

    creator: Person
    chats: list[Chat]
    notifications: dict
    stats: dict
    next_seq: int


@dataclass(frozen=True)
class _Role:
    state: str  # "unread", "read", or "flagged" (marked unread by hand, creator spoke last)
    last_kind: str  # "text", "media", "tip", or "creator"
    contactable: bool = True
    length: int | None = None


FIXED_ROLES = [
    _Role("unread", "text"),
    _Role("flagged", "creator"),
    _Role("unread", "text", contactable=False),
    _Role("read", "creator"),
    _Role("unread", "media"),
    _Role("unread", "tip"),
]
FIXED_LENGTHS = {6: 1, 7: 30}


def _roles(rng: random.Random, fans: int) -> list[_Role]:
    """Fixed roles for the first fans, then exactly enough unread chats to make about 70% unread."""
    roles = FIXED_ROLES[:fans]
    free = list(range(len(roles), fans))
    already = sum(1 for r in roles if r.state != "read")
    unread = set(rng.sample(free, max(0, min(len(free), round(UNREAD_SHARE * fans) - already))))
    for index in free:
        length = FIXED_LENGTHS.get(index)
        if index in unread:
            roles.append(_Role("unread", rng.choice(["text", "text", "text", "media"]), length=length))
        else:
            roles.append(_Role("read", rng.choice(["creator", "text"]), length=length))
    return roles


class _Builder:
    def __init__(self, seed: int, anchor: datetime) -> None:
        self.rng = random.Random(seed)
        self.anchor = anchor
        self.messages: list[Message] = []

    def uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def person(self, index: int, blocked: bool) -> Person:
        name, stem = NAMES[index % len(NAMES)]
        cycle = index // len(NAMES)
        handle = stem if cycle == 0 else f"{stem}{cycle + 1}"
        if blocked:
            handle = f"{handle}-blocked"
        avatar = None if self.rng.random() < 0.2 else f"https://media.fanvue.com/avatars/{handle}.jpg"
        return Person(
            uuid=self.uuid(),
            handle=handle,
            display_name=name,
            avatar_url=avatar,
            registered_at=self.anchor - timedelta(days=self.rng.randint(30, 900)),
            is_top_spender=self.rng.random() < 0.2,
            contactable=not blocked,
        )

    def message(self, creator: Person, fan: Person, from_fan: bool, kind: str, sent_at: datetime) -> Message:
        sender, recipient = (fan, creator) if from_fan else (creator, fan)
        message = Message(
            uuid=self.uuid(),
            seq=0,
            sender_uuid=sender.uuid,
            recipient_uuid=recipient.uuid,
            text=None,
            sent_at=sent_at,
            is_read=True,
        )
        if kind == "tip":
            message.type = "TIP"
            message.price = self.rng.choice([300, 500, 1000, 2500])
            message.text = self.rng.choice([None, "for coffee ☕", "you deserve it 💸"])
        elif kind == "media":
            message.media_type = self.rng.choice(MEDIA_TYPES)
            message.media_uuids = [self.uuid()]
            if not from_fan:
                message.text = self.rng.choice(CAPTIONS)
                if self.rng.random() < 0.5:
                    message.price = self.rng.choice([500, 999, 1500])
                    if self.rng.random() < 0.5:
                        message.purchased_at = sent_at + timedelta(minutes=self.rng.randint(1, 90))
        else:
            message.text = self.rng.choice(FAN_TEXTS if from_fan else CREATOR_TEXTS)
        self.messages.append(message)
        return message

    def chat(self, creator: Person, fan: Person, role: _Role) -> Chat:
        length = role.length or self.rng.randint(1, 30)
        trailing_unread = min(length, self.rng.randint(1, 3)) if role.state == "unread" else 0
        plan: list[tuple[bool, str]] = []
        for position in range(length):
            is_last = position == length - 1
            if position >= length - trailing_unread:
                from_fan = True
            elif is_last:
                from_fan = role.last_kind != "creator"
            else:
                from_fan = self.rng.random() < 0.55
            kind = self.rng.choices(["text", "media", "tip"], [75, 15, 10])[0]
            if is_last:
                kind = "text" if role.last_kind == "creator" else role.last_kind
            if kind == "tip" and not from_fan:
                kind = "text"
            plan.append((from_fan, kind))
        sent_at = self.anchor - timedelta(minutes=self.rng.randint(2, 3 * 24 * 60))
        times = []
        for _ in plan:
            times.append(sent_at)
            sent_at -= timedelta(minutes=self.rng.randint(1, 600), milliseconds=self.rng.randint(0, 999))
        times.reverse()
        messages = [self.message(creator, fan, f, k, t) for (f, k), t in zip(plan, times, strict=True)]
        for message in messages[len(messages) - trailing_unread :]:
            message.is_read = False
        for message in messages:
            if message.sender_uuid == creator.uuid:
                message.is_read = self.rng.random() < 0.8
        return Chat(
            fan=fan,
            created_at=times[0] - timedelta(hours=self.rng.randint(1, 48)),
            messages=messages,
            is_read=role.state == "read",
            unread_count=trailing_unread,
        )


def creator_name(index: int) -> tuple[str, str]:
    """Display name and handle of the sandbox's creator number `index` (0 is the first)."""
    name, handle = CREATORS[index % len(CREATORS)]
    cycle = index // len(CREATORS)
    return (name, handle) if cycle == 0 else (f"{name} {cycle + 1}", f"{handle}-{cycle + 1}")


def build_seed(fans: int, seed: int, anchor: datetime, creator_index: int = 0) -> Seed:
    """Build the starting state; the same `fans`, `seed`, `anchor` and creator always give the same world."""
    if fans < 1:
        raise ValueError("the sandbox needs at least one fan")
    # Every further creator draws from its own stream, so fans and uuids never repeat across creators.
    builder = _Builder(seed if creator_index == 0 else seed * 7919 + creator_index * 104729, anchor)
    rng = builder.rng
    name, handle = creator_name(creator_index)
    creator = Person(
        uuid=builder.uuid(),
        handle=handle,
        display_name=name,
        avatar_url=f"https://media.fanvue.com/avatars/{handle}.jpg",
        registered_at=anchor - timedelta(days=rng.randint(400, 900)),
    )
    chats = []
    for index, role in enumerate(_roles(rng, fans)):
        fan = builder.person(index, blocked=not role.contactable)
        chat = builder.chat(creator, fan, role)
        # Fixed-role chats stay unmuted so clients filtering on not_muted still see every case.
        chat.is_muted = index >= 6 and rng.random() < 0.12
        chats.append(chat)
    ordered = sorted(builder.messages, key=lambda m: m.sent_at)
    for seq, message in enumerate(ordered, start=1):
        message.seq = seq
    notifications = {
        key: rng.randint(0, 9)
        for key in (
            "newFollower",
            "newPostComment",
            "newPostLike",
            "newPurchase",
            "newSubscriber",
            "newTip",
            "newPromotion",
        )
    }
    stats = {
        "likesCount": rng.randint(1000, 90000),
        "followersCount": rng.randint(500, 9000),
        "subscribersCount": rng.randint(100, 2000),
        "imageCount": rng.randint(50, 400),
        "videoCount": rng.randint(10, 120),
        "audioCount": rng.randint(0, 30),
        "postCount": rng.randint(80, 500),
        "payToViewPostCount": rng.randint(5, 60),
    }
    return Seed(
        creator=creator, chats=chats, notifications=notifications, stats=stats, next_seq=len(ordered) + 1
    )
