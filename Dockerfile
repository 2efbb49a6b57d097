# The bot in a container: slim Python, non-root user, the data folder as a volume.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
RUN useradd --create-home --uid 1000 bot
WORKDIR /app
COPY pyproject.toml README.md ./
COPY summariser ./summariser
COPY storage ./storage
COPY bot ./bot
COPY seeds ./seeds
RUN pip install . && mkdir -p /app/data && chown -R bot:bot /app/data
USER bot
ENV BOT_DATABASE=/app/data/bot.sqlite3
VOLUME ["/app/data"]
# BOT_TOKEN must be given at run time: docker run -e BOT_TOKEN=... -v hoinghi-data:/app/data IMAGE
CMD ["python", "-m", "bot"]
