"""The web app's files are served; npm's package files and node_modules are not."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from greenroom.server import FRONTEND_DIR, FrontendFiles


async def test_only_the_apps_own_files_are_served() -> None:
    app = FastAPI()
    app.mount("/static", FrontendFiles(directory=FRONTEND_DIR), name="static")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://greenroom.test") as client:
        for path in ("app.js", "app.css", "pages/review.js", "vendor/chart.umd.js", "vendor/livekit-client.esm.js",
                     "room-livekit.js", "watch-livekit.js"):
            response = await client.get(f"/static/{path}")
            assert response.status_code == 200, path
        assert (FRONTEND_DIR / "package.json").exists()
        for path in ("package.json", "package-lock.json", "node_modules/chart.js/package.json",
                     "node_modules/livekit-client/dist/livekit-client.esm.mjs"):
            assert (await client.get(f"/static/{path}")).status_code == 404, path
