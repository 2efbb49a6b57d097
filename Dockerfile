# The bot in a container: slim Python, non-root user, the data folder as a volume.
# Tesseract with its Vietnamese data reads scanned PDFs and photos; poppler renders PDF pages for it.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
RUN apt-get update \
    && apt-get install -y --no-install-recommends tesseract-ocr tesseract-ocr-vie poppler-utils \
    && rm -rf /var/lib/apt/lists/*
RUN useradd --create-home --uid 1000 bot
WORKDIR /src
COPY pyproject.toml README.md ./
COPY documents ./documents
COPY summariser ./summariser
COPY storage ./storage
COPY bot ./bot
RUN pip install ".[pg]" && rm -rf /src
WORKDIR /app
COPY seeds ./seeds
RUN mkdir -p /app/data && chown -R bot:bot /app/data
USER bot
ENV BOT_DATABASE=/app/data/bot.sqlite3
VOLUME ["/app/data"]
# BOT_TOKEN must be given at run time: docker run -e BOT_TOKEN=... -v hoinghi-data:/app/data IMAGE
# (PostgreSQL and webhooks behind a proxy: docker-compose.yml)
CMD ["python", "-m", "bot"]
