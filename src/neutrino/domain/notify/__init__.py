"""Which hosts a committed transaction touches, without projecting any host.

``changes`` maps the rows a transaction wrote to keys (pure); ``hosts`` resolves keys to the
hosts whose desired state they reach, with index queries; ``capture`` collects the rows from
the statements a writer's connection executes (docs/architecture.md, "Notifications").
"""
