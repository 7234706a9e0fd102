"""Every committed write to a comune or its hosts notifies the processes' host caches (tenants.host_cache)."""

from django.db import migrations

CHANNEL = "iscrizioni_comuni"

FORWARD = f"""
CREATE FUNCTION public.tenants_comune_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        PERFORM pg_notify('{CHANNEL}', '*');
        RETURN NULL;
    END IF;
    IF TG_TABLE_NAME = 'tenants_domain' THEN
        IF TG_OP <> 'INSERT' THEN PERFORM pg_notify('{CHANNEL}', OLD.tenant_id::text); END IF;
        IF TG_OP <> 'DELETE' THEN PERFORM pg_notify('{CHANNEL}', NEW.tenant_id::text); END IF;
    ELSE
        IF TG_OP <> 'INSERT' THEN PERFORM pg_notify('{CHANNEL}', OLD.id::text); END IF;
        IF TG_OP <> 'DELETE' THEN PERFORM pg_notify('{CHANNEL}', NEW.id::text); END IF;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER tenants_comune_notify AFTER INSERT OR UPDATE OR DELETE ON public.tenants_comune
    FOR EACH ROW EXECUTE FUNCTION public.tenants_comune_notify();
CREATE TRIGGER tenants_comune_notify_truncate AFTER TRUNCATE ON public.tenants_comune
    FOR EACH STATEMENT EXECUTE FUNCTION public.tenants_comune_notify();
CREATE TRIGGER tenants_domain_notify AFTER INSERT OR UPDATE OR DELETE ON public.tenants_domain
    FOR EACH ROW EXECUTE FUNCTION public.tenants_comune_notify();
CREATE TRIGGER tenants_domain_notify_truncate AFTER TRUNCATE ON public.tenants_domain
    FOR EACH STATEMENT EXECUTE FUNCTION public.tenants_comune_notify();
"""

BACKWARD = """
DROP TRIGGER tenants_domain_notify_truncate ON public.tenants_domain;
DROP TRIGGER tenants_domain_notify ON public.tenants_domain;
DROP TRIGGER tenants_comune_notify_truncate ON public.tenants_comune;
DROP TRIGGER tenants_comune_notify ON public.tenants_comune;
DROP FUNCTION public.tenants_comune_notify();
"""


class Migration(migrations.Migration):
    dependencies = [("tenants", "0004_comune_catalogue_version")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
