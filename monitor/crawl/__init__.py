"""The Scrapy glue of monitor: settings layering, pipelines, crawler processes."""
