"""Media path: camera sources, privacy masks, JPEG processing and the live-session pump.

Pure Python (numpy, Pillow, aiohttp, onvif-zeep-async) with no Home Assistant import, so the
benchmarks and the tests use it bare. Only relative imports inside ``connect_share``.
"""
