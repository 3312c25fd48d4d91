"""Media path: camera sources, privacy masks, JPEG processing and live sessions.

Pure Python (numpy, Pillow, aiohttp, onvif-zeep-async) with no Home Assistant import, so the
benchmarks and tests use it bare. Only relative imports inside ``connect_share``.

- ``masks``: ``parse_masks(text)`` (the options flow's validator, raises ``MaskError``, a
  ``ValueError``), ``apply_masks``, ``masks_to_text``.
- ``jpeg``: ``process_frame(jpeg, masks)``, the one path from camera bytes to bytes that
  leave the house (``FrameError`` on garbage or images over 40 MP).
- ``sources``: ``CameraSource`` protocol, ``CallableSource`` (wraps an HA camera entity's
  ``async_get_image``), ``SourceError``; ``go2rtc``: ``Go2rtcClient``, ``Go2rtcSource``;
  ``onvif_camera``: ``OnvifCamera``, ``OnvifSource``.
- ``pump``: ``FramePump`` (one live session); ``sessions``: ``LiveSessions`` (all of them,
  with the stop calls for every revocation path); ``snapshot``: ``take_snapshot``,
  ``webrtc_answer``; ``discovery``: ``check_go2rtc``, ``read_onvif``, ``flow_error`` (one call
  per config-flow step).

Submodules are imported explicitly (``from .media.pump import FramePump``) so that using
masks does not load aiohttp or zeep.
"""
