"""An ONVIF camera stand-in: SOAP 1.2 device and media services plus a digest-auth snapshot URL.

Responses are shaped like a real camera's (a Hikvision-style IPC with a main H.264 stream
and a sub stream), and every SOAP call must carry a valid WS-Security UsernameToken
(PasswordDigest), as a real camera demands. The real ``onvif-zeep-async`` client talks to it.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import secrets
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from aiohttp import web

from .go2rtc_standin import serve_app

NS = {
    "s": "http://www.w3.org/2003/05/soap-envelope",
    "wsse": "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd",
    "wsu": "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd",
}
ENVELOPE = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope" '
    'xmlns:tt="http://www.onvif.org/ver10/schema" '
    'xmlns:tds="http://www.onvif.org/ver10/device/wsdl" '
    'xmlns:trt="http://www.onvif.org/ver10/media/wsdl" '
    'xmlns:ter="http://www.onvif.org/ver10/error">'
    "<env:Header/><env:Body>{body}</env:Body></env:Envelope>"
)
REALM = "IP Camera(C2358)"


@dataclass
class OnvifState:
    snapshot: bytes
    username: str = "admin"
    password: str = "cam-pass-1"
    manufacturer: str = "HIKVISION"
    model: str = "DS-2CD2043G2-I"
    firmware: str = "V5.7.3 build 220112"
    serial: str = "DS-2CD2043G2-I20220101AAWRJ12345678"
    rtsp_port: int = 554
    base_url: str = ""  # set once the server runs
    calls: list[str] = field(default_factory=list)
    snapshot_requests: int = 0
    nonces: set[str] = field(default_factory=set)


def make_app(state: OnvifState) -> web.Application:
    app = web.Application()
    app["state"] = state
    app.router.add_post("/onvif/device_service", _soap)
    app.router.add_post("/onvif/Media", _soap)
    app.router.add_get("/onvif-http/snapshot", _snapshot)
    return app


@contextlib.asynccontextmanager
async def serve(state: OnvifState) -> AsyncIterator[tuple[str, int]]:
    """Run on 127.0.0.1; yields (host, port) for ``ONVIFCamera``."""
    async with serve_app(make_app(state)) as url:
        state.base_url = url
        host, port = url.removeprefix("http://").split(":")
        yield host, int(port)


# --- SOAP --------------------------------------------------------------------------------


def _fault(code: str, subcode: str, reason: str, status: int = 400) -> web.Response:
    body = (
        "<env:Fault><env:Code><env:Value>env:" + code + "</env:Value>"
        "<env:Subcode><env:Value>" + subcode + "</env:Value></env:Subcode></env:Code>"
        '<env:Reason><env:Text xml:lang="en">' + reason + "</env:Text></env:Reason></env:Fault>"
    )
    return _xml(body, status)


def _xml(body: str, status: int = 200) -> web.Response:
    return web.Response(
        status=status,
        text=ENVELOPE.format(body=body),
        content_type="application/soap+xml",
        charset="utf-8",
    )


def _authorised(state: OnvifState, envelope: ET.Element) -> bool:
    token = envelope.find("s:Header/wsse:Security/wsse:UsernameToken", NS)
    if token is None:
        return False
    user = token.findtext("wsse:Username", "", NS)
    digest = token.findtext("wsse:Password", "", NS)
    nonce = token.findtext("wsse:Nonce", "", NS)
    created = token.findtext("wsu:Created", "", NS)
    expected = base64.b64encode(
        hashlib.sha1(base64.b64decode(nonce) + created.encode() + state.password.encode()).digest()
    ).decode()
    return user == state.username and secrets.compare_digest(digest, expected)


async def _soap(request: web.Request) -> web.Response:
    state: OnvifState = request.app["state"]
    try:
        envelope = ET.fromstring(await request.read())
    except ET.ParseError:
        return _fault("Sender", "ter:WellFormed", "Malformed XML")
    body = envelope.find("s:Body", NS)
    if body is None or len(body) == 0:
        return _fault("Sender", "ter:WellFormed", "No body")
    operation = body[0]
    name = operation.tag.rsplit("}", 1)[-1]
    state.calls.append(name)
    if not _authorised(state, envelope):
        return _fault("Sender", "ter:NotAuthorized", "Sender not Authorized")
    handler = _OPERATIONS.get(name)
    if handler is None:
        return _fault("Receiver", "ter:ActionNotSupported", f"{name} not supported")
    return handler(state, operation)


def _device_information(state: OnvifState, _op: ET.Element) -> web.Response:
    return _xml(
        "<tds:GetDeviceInformationResponse>"
        f"<tds:Manufacturer>{state.manufacturer}</tds:Manufacturer>"
        f"<tds:Model>{state.model}</tds:Model>"
        f"<tds:FirmwareVersion>{state.firmware}</tds:FirmwareVersion>"
        f"<tds:SerialNumber>{state.serial}</tds:SerialNumber>"
        "<tds:HardwareId>88</tds:HardwareId>"
        "</tds:GetDeviceInformationResponse>"
    )


def _capabilities(state: OnvifState, _op: ET.Element) -> web.Response:
    base = state.base_url
    return _xml(
        "<tds:GetCapabilitiesResponse><tds:Capabilities>"
        "<tt:Device>"
        f"<tt:XAddr>{base}/onvif/device_service</tt:XAddr>"
        "<tt:Network><tt:IPFilter>true</tt:IPFilter><tt:ZeroConfiguration>true</tt:ZeroConfiguration>"
        "<tt:IPVersion6>true</tt:IPVersion6><tt:DynDNS>true</tt:DynDNS></tt:Network>"
        "<tt:System><tt:DiscoveryResolve>false</tt:DiscoveryResolve><tt:DiscoveryBye>true</tt:DiscoveryBye>"
        "<tt:RemoteDiscovery>false</tt:RemoteDiscovery><tt:SystemBackup>false</tt:SystemBackup>"
        "<tt:SystemLogging>true</tt:SystemLogging><tt:FirmwareUpgrade>true</tt:FirmwareUpgrade>"
        "<tt:SupportedVersions><tt:Major>2</tt:Major><tt:Minor>60</tt:Minor></tt:SupportedVersions>"
        "</tt:System>"
        "<tt:Security><tt:TLS1.1>false</tt:TLS1.1><tt:TLS1.2>true</tt:TLS1.2>"
        "<tt:OnboardKeyGeneration>false</tt:OnboardKeyGeneration>"
        "<tt:AccessPolicyConfig>true</tt:AccessPolicyConfig><tt:X.509Token>false</tt:X.509Token>"
        "<tt:SAMLToken>false</tt:SAMLToken><tt:KerberosToken>false</tt:KerberosToken>"
        "<tt:RELToken>false</tt:RELToken></tt:Security>"
        "</tt:Device>"
        "<tt:Events>"
        f"<tt:XAddr>{base}/onvif/Events</tt:XAddr>"
        "<tt:WSSubscriptionPolicySupport>true</tt:WSSubscriptionPolicySupport>"
        "<tt:WSPullPointSupport>true</tt:WSPullPointSupport>"
        "<tt:WSPausableSubscriptionManagerInterfaceSupport>false"
        "</tt:WSPausableSubscriptionManagerInterfaceSupport>"
        "</tt:Events>"
        f"<tt:Imaging><tt:XAddr>{base}/onvif/Imaging</tt:XAddr></tt:Imaging>"
        "<tt:Media>"
        f"<tt:XAddr>{base}/onvif/Media</tt:XAddr>"
        "<tt:StreamingCapabilities><tt:RTPMulticast>true</tt:RTPMulticast>"
        "<tt:RTP_TCP>true</tt:RTP_TCP><tt:RTP_RTSP_TCP>true</tt:RTP_RTSP_TCP>"
        "</tt:StreamingCapabilities>"
        "</tt:Media>"
        "</tds:Capabilities></tds:GetCapabilitiesResponse>"
    )


_PROFILES = (
    ("Profile_1", "mainStream", "VideoEncoderToken_1", 2560, 1440, 25, 4096),
    ("Profile_2", "subStream", "VideoEncoderToken_2", 640, 360, 15, 512),
)


def _profile_xml(token: str, name: str, enc: str, w: int, h: int, fps: int, kbps: int) -> str:
    return (
        f'<trt:Profiles token="{token}" fixed="true">'
        f"<tt:Name>{name}</tt:Name>"
        '<tt:VideoSourceConfiguration token="VideoSourceToken">'
        "<tt:Name>VideoSourceConfig</tt:Name><tt:UseCount>2</tt:UseCount>"
        "<tt:SourceToken>VideoSource_1</tt:SourceToken>"
        '<tt:Bounds x="0" y="0" width="2560" height="1440"/>'
        "</tt:VideoSourceConfiguration>"
        f'<tt:VideoEncoderConfiguration token="{enc}">'
        f"<tt:Name>VideoEncoder_{token[-1]}</tt:Name><tt:UseCount>1</tt:UseCount>"
        "<tt:Encoding>H264</tt:Encoding>"
        f"<tt:Resolution><tt:Width>{w}</tt:Width><tt:Height>{h}</tt:Height></tt:Resolution>"
        "<tt:Quality>3.000000</tt:Quality>"
        f"<tt:RateControl><tt:FrameRateLimit>{fps}</tt:FrameRateLimit>"
        "<tt:EncodingInterval>1</tt:EncodingInterval>"
        f"<tt:BitrateLimit>{kbps}</tt:BitrateLimit></tt:RateControl>"
        "<tt:H264><tt:GovLength>50</tt:GovLength><tt:H264Profile>Main</tt:H264Profile></tt:H264>"
        "<tt:Multicast><tt:Address><tt:Type>IPv4</tt:Type>"
        "<tt:IPv4Address>0.0.0.0</tt:IPv4Address></tt:Address>"
        "<tt:Port>8860</tt:Port><tt:TTL>128</tt:TTL><tt:AutoStart>false</tt:AutoStart>"
        "</tt:Multicast>"
        "<tt:SessionTimeout>PT5S</tt:SessionTimeout>"
        "</tt:VideoEncoderConfiguration>"
        "</trt:Profiles>"
    )


def _profiles(_state: OnvifState, _op: ET.Element) -> web.Response:
    return _xml(
        "<trt:GetProfilesResponse>"
        + "".join(_profile_xml(*p) for p in _PROFILES)
        + "</trt:GetProfilesResponse>"
    )


def _profile_token(op: ET.Element) -> str | None:
    for el in op.iter():
        if el.tag.endswith("}ProfileToken"):
            return el.text
    return None


def _media_uri(element: str, uri: str) -> str:
    return (
        f"<trt:{element}><trt:MediaUri><tt:Uri>{uri}</tt:Uri>"
        "<tt:InvalidAfterConnect>false</tt:InvalidAfterConnect>"
        "<tt:InvalidAfterReboot>false</tt:InvalidAfterReboot>"
        f"<tt:Timeout>PT60S</tt:Timeout></trt:MediaUri></trt:{element}>"
    )


def _stream_uri(state: OnvifState, op: ET.Element) -> web.Response:
    token = _profile_token(op)
    if token not in {p[0] for p in _PROFILES}:
        return _fault("Sender", "ter:InvalidArgVal", "No such profile")
    channel = "101" if token == "Profile_1" else "102"
    host = state.base_url.removeprefix("http://").split(":")[0]
    uri = f"rtsp://{host}:{state.rtsp_port}/Streaming/Channels/{channel}?transportmode=unicast&amp;profile={token}"
    return _xml(_media_uri("GetStreamUriResponse", uri))


def _snapshot_uri(state: OnvifState, op: ET.Element) -> web.Response:
    token = _profile_token(op)
    if token not in {p[0] for p in _PROFILES}:
        return _fault("Sender", "ter:InvalidArgVal", "No such profile")
    uri = f"{state.base_url}/onvif-http/snapshot?Profile_{token[-1]}"
    return _xml(_media_uri("GetSnapshotUriResponse", uri))


_OPERATIONS = {
    "GetDeviceInformation": _device_information,
    "GetCapabilities": _capabilities,
    "GetProfiles": _profiles,
    "GetStreamUri": _stream_uri,
    "GetSnapshotUri": _snapshot_uri,
}


# --- snapshot over HTTP with digest auth (RFC 7616, MD5, qop=auth) --------------------------


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


async def _snapshot(request: web.Request) -> web.Response:
    state: OnvifState = request.app["state"]
    auth = request.headers.get("Authorization", "")
    if auth.startswith("Digest ") and _digest_ok(state, request, auth[7:]):
        state.snapshot_requests += 1
        return web.Response(body=state.snapshot, content_type="image/jpeg")
    nonce = secrets.token_hex(16)
    state.nonces.add(nonce)
    return web.Response(
        status=401,
        headers={
            "WWW-Authenticate": f'Digest qop="auth", realm="{REALM}", nonce="{nonce}", '
            'stale="FALSE", algorithm=MD5'
        },
    )


def _digest_ok(state: OnvifState, request: web.Request, header: str) -> bool:
    fields: dict[str, str] = {}
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        fields[key] = value.strip('"')
    if fields.get("nonce") not in state.nonces or fields.get("username") != state.username:
        return False
    ha1 = _md5(f"{state.username}:{REALM}:{state.password}")
    ha2 = _md5(f"{request.method}:{fields.get('uri', '')}")
    expected = _md5(
        f"{ha1}:{fields['nonce']}:{fields.get('nc', '')}:{fields.get('cnonce', '')}:"
        f"{fields.get('qop', '')}:{ha2}"
    )
    return secrets.compare_digest(fields.get("response", ""), expected)
