from alembic import context
from casereg.db import run_env

run_env(context)
