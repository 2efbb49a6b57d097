# The bot in a container: slim Python, non-root user, the data folder as a volume.
# Stage 1 builds the wheel (gcc compiles the summariser with mypyc, see setup.py).
FROM python:3.11-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml setup.py README.md ./
COPY summariser ./summariser
COPY storage ./storage
COPY bot ./bot
RUN pip wheel --no-cache-dir --no-deps -w /wheels .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
RUN useradd --create-home --uid 1000 bot
COPY --from=build /wheels /wheels
RUN pip install /wheels/*.whl && rm -rf /wheels
# (no source folders in /app: `python -m bot` imports the installed, compiled package)
WORKDIR /app
COPY seeds ./seeds
RUN mkdir -p /app/data && chown -R bot:bot /app/data
USER bot
ENV BOT_DATABASE=/app/data/bot.sqlite3
VOLUME ["/app/data"]
# BOT_TOKEN must be given at run time: docker run -e BOT_TOKEN=... -v hoinghi-data:/app/data IMAGE
CMD ["python", "-m", "bot"]
