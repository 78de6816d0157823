"""Slack's limits on what the app posts: written once here, from Slack's reference and slack_sdk's models."""

from __future__ import annotations

# Block Kit reference (slack_sdk.models checks the ones marked so when a block is serialised).
SECTION_TEXT_MAX = 3000  # a section's text (SectionBlock.text_max_length)
TEXT_OBJECT_MAX = 3000  # any text object, e.g. a context element
CONTEXT_ELEMENTS_MAX = 10  # elements of a context block (ContextBlock.elements_max_length)
HEADER_TEXT_MAX = 150  # a header block's text (HeaderBlock.text_max_length)
BUTTON_TEXT_MAX = 75  # a button's label (ButtonElement.text_max_length)
BUTTON_VALUE_MAX = 2000  # a button's value (ButtonElement.value_max_length)
CONFIRM_TITLE_MAX = 100  # a confirm dialog's title (ConfirmObject.title_max_length)
CONFIRM_TEXT_MAX = 300  # a confirm dialog's text (ConfirmObject.text_max_length)
CONFIRM_BUTTON_MAX = 30  # its confirm and deny labels (ConfirmObject.confirm_max_length)
INPUT_TEXT_MAX = 3000  # a plain_text_input's max_length: Slack enforces it, slack_sdk does not
MODAL_TITLE_MAX = 24  # a modal's title, submit and close labels (View.title_max_length)
PRIVATE_METADATA_MAX = 3000  # a modal's private_metadata (View.private_metadata_max_length)
MODAL_BLOCKS_MAX = 100  # blocks in a modal (View.blocks_max_length)

# chat.postMessage reference.
MESSAGE_BLOCKS_MAX = 50  # blocks in one message
MESSAGE_TEXT_MAX = 40_000  # a message's top-level `text`; Slack cuts what is longer
# Slack answers msg_blocks_too_long for a message whose blocks are much longer than this, a size its
# reference does not give: the app keeps each message's blocks (as JSON) under it.
MESSAGE_BLOCKS_JSON_MAX = 12_000
