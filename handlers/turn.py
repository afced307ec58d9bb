"""One update = one turn: load the chat's state, decide, save (commit), then reply.

Every handler runs inside `in_turn`, which makes the order structural: replies are queued
while the handler decides and are only sent once the unit of work has committed, so a user
is never told something is saved that is not.

When Telegram refuses one queued reply for good (400), the others still go out, and if the refused
one was a message the reporter needed, they get a short plain apology instead of silence. Nothing
of the reply itself is logged: only the method and the error class.

Replies are not throttled bot-wide (a user who just pressed a button is not bulk traffic). If
Telegram answers 429 for this chat, the call waits `retry_after` and is tried once more; a button's
answer is never held back like that (it is useless after a few seconds anyway).

Under a webhook, a button's answer (it stops the button's spinner, and may show a toast) rides in
the HTTP answer to the delivery (`WebhookReply`), which Telegram runs as a Bot API call: one
request fewer for every button pressed. It still goes out only after the commit, now after the
turn's replies instead of before them (milliseconds later: a toast shows with the reply it goes
with); if a reply has to wait for a 429's `retry_after`, the answer is taken back and sent at once.
Telegram never says whether such a call worked, which for `answerCallbackQuery` changes nothing:
its failures were only logged. An alert (a box the user must close, saying why nothing else
happens) is still its own request, made in the turn's order: the handlers that raise one queue
nothing else.
"""

from __future__ import annotations

import asyncio
import enum
import functools
import gettext
import logging
import operator
from collections.abc import Awaitable, Callable, Coroutine
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from typing import Any

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram._utils.defaultvalue import DEFAULT_NONE
from telegram.constants import ChatType
from telegram.error import RetryAfter, TelegramError

from handlers.context import TracebotContext
from handlers.delivery import Failure, classify, retry_after_seconds
from storage.records import ConversationRecord, ReporterRecord
from storage.uow import UnitOfWork

log = logging.getLogger(__name__)


class Step(enum.StrEnum):
    """Where a reporter is in the conversation (stored in `conversations.state`)."""

    WELCOME = "welcome"  # has not opted in yet: no object image may be sent
    BROWSING = "browsing"  # an object card is on screen
    COUNTRY = "country"  # asked which country the object is from
    COUNTRY_TYPED = "country_typed"  # chose "Other", typing a country name
    DETAILS = "details"  # asked what they know (free text or a location)
    PREVIEW = "preview"  # shown the tip, waiting for Send / Edit / Cancel
    ANSWERING = "answering"  # pressed "Answer" on a follow-up question; the next text is the answer
    ADDING = "adding"  # chose a tip in /mytips; the next text is added to it
    STOPPED = "stopped"  # opted out with /stop
    URGENT_COUNTRY = "urgent_country"  # urgent: asked which country they are in, to show its contacts
    URGENT_COUNTRY_TYPED = "urgent_country_typed"  # urgent: chose "Other", typing a country name
    URGENT_DETAILS = "urgent_details"  # urgent (/urgent): shown the contacts, asked what they know


Call = Callable[[], Awaitable[Any]]


@dataclass(eq=False)
class Outgoing:
    """One call queued for after the commit."""

    send: Call
    method: str = "call"  # what logs name it by (the Bot API method), never its arguments
    to_user: bool = False  # a message the reporter must see: a refusal earns them an apology
    after: Outgoing | None = None  # made only if this earlier call went through
    done: bool = False
    webhook_reply: dict[str, Any] | None = None  # the call as a webhook answer carries it, if it may


@dataclass
class WebhookReply:
    """The one Bot API call the answer to the webhook delivery of `update_id` may carry (Telegram runs it)."""

    update_id: int
    call: dict[str, Any] | None = None


# Set by the webhook route around the processing of each update it was delivered.
WEBHOOK_REPLY: ContextVar[WebhookReply | None] = ContextVar("tracebot_webhook_reply", default=None)


def _webhook_reply(update_id: int) -> WebhookReply | None:
    reply = WEBHOOK_REPLY.get()
    return reply if reply is not None and reply.update_id == update_id else None


def webhook_reply_taken(update_id: int) -> bool:
    """Whether the answer to this update's webhook delivery already carries a call."""
    reply = _webhook_reply(update_id)
    return reply is not None and reply.call is not None


def in_webhook_reply(update_id: int, call: dict[str, Any]) -> bool:
    """Put the call in the answer to this update's webhook delivery; False when there is none or it is taken."""
    reply = _webhook_reply(update_id)
    if reply is None or reply.call is not None:
        return False
    reply.call = call
    return True


def out_of_webhook_reply(update_id: int, call: dict[str, Any]) -> bool:
    """Take the call back out of the webhook answer (to make it now); False if it is not there."""
    reply = _webhook_reply(update_id)
    if reply is None or reply.call is not call:
        return False
    reply.call = None
    return True


# bot_data key of the function that re-shows the current step for a redelivered update.
RESUME_KEY = "tracebot.resume"


@dataclass
class Turn:
    """The state a handler works on, and the replies it queues for after the commit."""

    update: Update
    context: TracebotContext
    uow: UnitOfWork
    reporter: ReporterRecord
    conversation: ConversationRecord
    is_new_reporter: bool
    chat_id: int
    translations: gettext.NullTranslations
    _saved_conversation: ConversationRecord = field(init=False)
    _outgoing: list[Outgoing] = field(default_factory=list)
    _callback_answered: bool = False
    _forgotten: bool = False

    def __post_init__(self) -> None:
        self._saved_conversation = self._snapshot()

    def _snapshot(self) -> ConversationRecord:
        conversation = self.conversation
        return replace(conversation, draft=dict(conversation.draft), viewed=list(conversation.viewed))

    @property
    def step(self) -> Step:
        try:
            return Step(self.conversation.state)
        except ValueError:
            return Step.BROWSING if self.reporter.opted_in else Step.WELCOME

    @step.setter
    def step(self, value: Step) -> None:
        self.conversation.state = value.value

    @property
    def language(self) -> str:
        return self.reporter.language

    def gettext(self, message: str) -> str:
        return self.translations.gettext(message)

    def ngettext(self, singular: str, plural: str, count: int) -> str:
        return self.translations.ngettext(singular, plural, count)

    def later(
        self, action: Call, *, method: str = "call", to_user: bool = False, after: Outgoing | None = None
    ) -> Outgoing:
        """Queue a call for after the commit (`after`: only once that earlier one went through)."""
        outgoing = Outgoing(action, method=method, to_user=to_user, after=after)
        self._outgoing.append(outgoing)
        return outgoing

    def say(self, text: str, keyboard: InlineKeyboardMarkup | None = None) -> Outgoing:
        data = {"chat_id": self.chat_id, "text": text, "parse_mode": DEFAULT_NONE, "reply_markup": keyboard}
        return self.later(
            lambda: send_unread(self.context.bot, "sendMessage", data), method="sendMessage", to_user=True
        )

    def answer(self, text: str | None = None, *, alert: bool = False) -> None:
        """Answer the pressed button (a toast, or an alert box)."""
        query = self.update.callback_query
        if query is None or self._callback_answered:
            return
        self._callback_answered = True
        outgoing = self.later(lambda: query.answer(text, show_alert=alert), method="answerCallbackQuery")
        if not alert:  # an alert is its own request, first: the box says why nothing else happens
            call = {"method": "answerCallbackQuery", "callback_query_id": str(query.id)}
            outgoing.webhook_reply = call if text is None else {**call, "text": text}

    def clear_buttons(self) -> None:
        """Remove the keyboard from the message whose button was pressed, so it can't be pressed twice."""
        message = self.update.callback_query.message if self.update.callback_query else None
        if isinstance(message, Message) and message.reply_markup is not None:
            data = {"chat_id": message.chat_id, "message_id": message.message_id}
            self.later(
                lambda: send_unread(self.context.bot, "editMessageReplyMarkup", data), method="editMessageReplyMarkup"
            )

    def forget_conversation(self) -> None:
        """The reporter was erased: there is no conversation left to save."""
        self._forgotten = True

    async def commit(self) -> None:
        if self.conversation != self._saved_conversation and not self._forgotten:
            await self.uow.reporters.save_conversation(self.conversation)
        await self.uow.commit()
        self._saved_conversation = self._snapshot()

    async def send_queued(self) -> None:
        """Make the queued calls in order; see the module docstring for what a failure does."""
        if self.update.callback_query is not None and not self._callback_answered:
            self.answer()
        queue, self._outgoing = self._outgoing, []
        apologised = False
        parked: Outgoing | None = None  # the button's answer, if it waits in the webhook answer

        async def unpark() -> None:
            """A reply is about to wait for a 429: the button's answer must not wait with it."""
            if parked is None or parked.webhook_reply is None:
                return
            if out_of_webhook_reply(self.update.update_id, parked.webhook_reply):
                try:
                    await parked.send()
                except TelegramError as error:
                    name = type(error).__name__
                    log.warning("update %s: answerCallbackQuery failed (%s)", self.update.update_id, name)

        for outgoing in queue:
            if outgoing.after is not None and not outgoing.after.done:
                continue
            if outgoing.webhook_reply is not None and in_webhook_reply(self.update.update_id, outgoing.webhook_reply):
                outgoing.done, parked = True, outgoing
                continue
            try:
                await _call_honouring_retry_after(outgoing, unpark)
            except TelegramError as error:
                failure = classify(error)
                if failure is Failure.TRANSIENT and outgoing.to_user:
                    raise  # as before: the error handler logs it; a lost reference is re-sent by the sweeper
                name, kind = type(error).__name__, failure.value
                log.warning("update %s: %s failed (%s, %s)", self.update.update_id, outgoing.method, name, kind)
                if failure is Failure.CHAT_GONE:
                    return  # blocked or deleted: nothing else will arrive either
                if outgoing.to_user and not apologised:
                    apologised = True
                    await self._apologise()
                continue
            outgoing.done = True

    async def _apologise(self) -> None:
        """Tell the reporter a reply went missing, in plain text so nothing in it can be refused."""
        text = self.gettext("Sorry, I could not show you my reply. Please try again, or send /cancel.")
        try:
            await self.context.bot.send_message(self.chat_id, text, parse_mode=None)
        except TelegramError as error:
            log.warning("update %s: the apology failed too (%s)", self.update.update_id, type(error).__name__)


async def send_unread(bot: Bot, method: str, data: dict[str, Any]) -> None:
    """A Bot API call whose answer nobody reads, made without turning the answer into PTB objects.

    PTB builds a `Message` from every sent or edited message's answer (about 80 attributes, each
    set through a checked `__setattr__`): the largest single cost of a call in the walk. `Bot._post`
    is the step under every public method (defaults such as `parse_mode` filled in for `DEFAULT_NONE`,
    None values dropped, errors raised as usual); PTB is pinned in the lock, and the tests send
    through it. An inline keyboard goes as its Bot API form (`keyboard_json`).
    """
    markup = data.get("reply_markup")
    if isinstance(markup, InlineKeyboardMarkup):
        data = {**data, "reply_markup": keyboard_json(markup)}
    await bot._post(method, data)


# Every field of a button but those `keyboard_json` writes itself; a button with any of them set
# (a web app, a login URL, a style...) is written by PTB.
_OTHER_BUTTON_FIELDS = operator.attrgetter(
    *(name for name in InlineKeyboardButton.__slots__ if name not in ("text", "callback_data", "url"))
)
_NO_OTHER_FIELDS = (None,) * (len(InlineKeyboardButton.__slots__) - 3)


def keyboard_json(markup: InlineKeyboardMarkup) -> dict[str, Any]:
    """`markup.to_dict()`, each plain button (text, and a string callback_data or URL) written directly.

    PTB's `to_dict` walks every slot of every object through generic code: 20 µs for a three-button
    keyboard, 80 µs for the country picker, against a few here. Any other button takes PTB's way.
    """
    if markup.api_kwargs or not markup.inline_keyboard:  # PTB leaves an empty list out
        return markup.to_dict()
    return {"inline_keyboard": [[_button_json(button) for button in row] for row in markup.inline_keyboard]}


def _button_json(button: InlineKeyboardButton) -> dict[str, Any]:
    data = button.callback_data
    if button.api_kwargs or _OTHER_BUTTON_FIELDS(button) != _NO_OTHER_FIELDS or not isinstance(data, str | None):
        return button.to_dict()
    fields = {"text": button.text, "url": button.url, "callback_data": data}
    return {name: value for name, value in fields.items() if value is not None}


# A reply waits at most this long for a 429's retry_after; a longer flood wait fails the call.
MAX_REPLY_WAIT = 10.0


def resting_step(turn: Turn) -> Step:
    """Where a reporter returns after a side path (urgent report, answer, addition): never past /stop or the opt-in."""
    if turn.reporter.stopped:
        return Step.STOPPED
    return Step.BROWSING if turn.reporter.opted_in else Step.WELCOME


async def _call_honouring_retry_after(outgoing: Outgoing, before_waiting: Call) -> None:
    """Make the call; after a 429 wait `retry_after` (this chat only: other turns go on) and retry once."""
    try:
        await outgoing.send()
    except RetryAfter as error:
        wait = retry_after_seconds(error)
        if outgoing.method == "answerCallbackQuery" or wait > MAX_REPLY_WAIT:
            raise
        log.info("%s: 429, retrying after %.1f s", outgoing.method, wait)
        await before_waiting()
        await asyncio.sleep(wait)
        await outgoing.send()


TurnHandler = Callable[[Update, TracebotContext, Turn], Awaitable[None]]
PtbCallback = Callable[[Update, TracebotContext], Coroutine[Any, Any, None]]


def in_turn(handler: TurnHandler) -> PtbCallback:
    """Wrap a handler: dedupe the update, load state, run it, commit, then send its replies."""

    @functools.wraps(handler)
    async def run_turn(update: Update, context: TracebotContext) -> None:
        user, chat = update.effective_user, update.effective_chat
        if user is None or chat is None or chat.type != ChatType.PRIVATE or user.is_bot:
            return  # Tracebot only talks to people, one-to-one.
        services = context.services
        async with services.database.turn() as uow:
            redelivered = not await uow.updates.claim(context.bot.id, update.update_id)
            language = services.catalogs.resolve(user.language_code, services.settings.default_language)
            reporter, conversation, created = await uow.reporters.open_chat(
                user.id,
                chat.id,
                language=language,
                telegram_language=(user.language_code or None) and user.language_code[:16],
                initial_state=Step.WELCOME.value,
            )
            turn = Turn(
                update=update,
                context=context,
                uow=uow,
                reporter=reporter,
                conversation=conversation,
                is_new_reporter=created,
                chat_id=chat.id,
                translations=services.catalogs.for_language(reporter.language),
            )
            if reporter.blocked:
                turn.answer()
                turn.say(turn.gettext("Sorry, this bot can no longer accept messages from you."))
            elif redelivered:
                log.info("update %s was already processed; showing the current step again", update.update_id)
                turn.answer()
                resume = context.application.bot_data.get(RESUME_KEY)
                if resume is not None:
                    await resume(turn)
            else:
                await handler(update, context, turn)
            await turn.commit()
        await turn.send_queued()

    return run_turn
