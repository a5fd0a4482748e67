"""Provider-shaped error answers: Twilio's `{code, message, more_info, status}` and Graph's `{"error": {…}}`, with
the codes and messages the real APIs use (providers.md §1.4, §2.6, §2.7, §3.2), and injected faults."""
from __future__ import annotations

from typing import Any

from aiohttp import web

TWILIO_API_PREFIX = "/2010-04-01/"
TWILIO_ERRORS = {
    20003: "Authenticate", 20404: "The requested resource was not found", 20429: "Too Many Requests",
    20500: "Internal Server Error", 21000: "Invalid request",
    21211: "Invalid 'To' Phone Number", 21602: "Message body is required.",
    21603: "A 'From' or 'MessagingServiceSid' parameter is required to send a message.",
    21604: "A 'To' phone number is required.", 21609: "Invalid StatusCallback",
    21610: "Attempt to send to unsubscribed recipient",
    21617: "The concatenated message body exceeds the 1600 character limit", 21620: "Invalid media URL(s)",
    21654: "ContentSid Required", 21655: "The ContentSid is Invalid",
    21656: "The ContentVariables Parameter is invalid",
    21910: "Invalid From and To pair. From and To should be of the same channel",
    63007: "Twilio could not find a Channel with the specified From address",
    63016: "Failed to send freeform message because you are outside the allowed window. If you are using WhatsApp, "
           "please use a Message Template.",
    63018: "Rate limit exceeded for Channel", 63049: "Meta chose not to deliver this WhatsApp marketing message"}
META_ERRORS = {
    0: "AuthException", 2: "Service temporarily unavailable", 4: "Application request limit reached",
    10: "Permission denied", 100: "Invalid parameter", 190: "Invalid OAuth access token",
    80007: "Rate limit issues", 130429: "Rate limit hit", 131000: "Something went wrong",
    131008: "Required parameter is missing", 131009: "Parameter value is not valid",
    131016: "Service unavailable", 131021: "Recipient cannot be sender", 131026: "Message undeliverable",
    131047: "Re-engagement message", 131049: "This message was not delivered to maintain healthy ecosystem "
    "engagement.", 131050: "User stopped marketing messages", 131051: "Unsupported message type",
    131053: "Media upload error", 131056: "(Business Account, Consumer Account) pair rate limit hit",
    132000: "Number of parameters does not match the expected number of params",
    132001: "Template name does not exist in the translation", 132015: "Template is paused",
    132016: "Template has been disabled"}
META_DETAILS = {
    130429: "Cloud API message throughput has been reached.",
    131047: "Message failed to send because more than 24 hours have passed since the customer last replied to this "
            "number.",
    131056: "Too many messages sent from the sender phone number to the same recipient phone number in a short "
            "period of time."}
IG_SUBCODES = {2534022: "This message is sent outside of allowed window.", 2534014: "No matching user found"}
_TWILIO_STATUS = {20003: 401, 20404: 404, 20429: 429, 20500: 500}
_GRAPH_STATUS = {0: 401, 190: 401, 10: 403, 368: 403, 131031: 403, 4: 429, 80007: 429, 130429: 429, 131056: 429,
                 2: 503, 131016: 503, 131000: 500, 132001: 404}


def twilio_error(status: int, code: int, message: str | None = None) -> web.Response:
    return web.json_response({"code": code, "message": message or TWILIO_ERRORS.get(code, f"Error {code}"),
                              "more_info": f"https://www.twilio.com/docs/errors/{code}", "status": status},
                             status=status)


def graph_error(status: int, code: int, message: str | None = None, *, subcode: int | None = None,
                type_: str = "OAuthException", whatsapp: bool = False) -> web.Response:
    text = message or IG_SUBCODES.get(subcode or 0) or META_ERRORS.get(code, "Error")
    error: dict[str, Any] = {"message": f"(#{code}) {text}", "type": type_, "code": code, "fbtrace_id": "SIMULATOR"}
    if whatsapp:
        error["error_data"] = {"messaging_product": "whatsapp", "details": META_DETAILS.get(code, text)}
    if subcode is not None:
        error["error_subcode"] = subcode
    return web.json_response({"error": error}, status=status)


def default_status(path: str, code: int) -> int:
    """The HTTP status a provider answers a code with (Meta's old table; Meta says not to rely on it)."""
    if path.startswith(TWILIO_API_PREFIX):
        return _TWILIO_STATUS.get(code, 400)
    return _GRAPH_STATUS.get(code, 403 if 200 <= code < 300 else 400)


def fault_response(path: str, status: int | None, body: Any, *, code: int | None = None,
                   subcode: int | None = None, message: str | None = None, instagram: bool = False) -> web.Response:
    """An injected failure, shaped like the provider's own error for that status (or `code`) unless `body` says
    otherwise."""
    if status is None:
        status = default_status(path, code) if code is not None else 500
    if body is not None:
        return web.json_response(body, status=status)
    if path.startswith(TWILIO_API_PREFIX):
        if code is None:
            code = {401: 20003, 404: 20404, 429: 20429}.get(status, 20500 if status >= 500 else 21000)
        return twilio_error(status, code, message or ("Injected failure" if code in (20500, 21000) else None))
    if path.startswith(("/ig-cdn/", "/twilio-cdn/", "/media-download/")):
        return web.Response(status=status, text="injected failure")
    if code is None:
        code = {401: 190, 403: 10, 429: 4}.get(status, 2 if status >= 500 else 100)
        message = message or "Injected failure"
    return graph_error(status, code, message, subcode=subcode, type_="IGApiException" if instagram else
                       "OAuthException", whatsapp=not instagram and code >= 130000)
