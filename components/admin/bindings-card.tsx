import { Badge, Card, Table } from "@/components/ui/ui";
import { RebindButton } from "@/components/admin/admin-actions";
import type { AdminOverview } from "@/lib/admin/overview";
import { entityLabels, type Dict } from "@/lib/i18n";
import styles from "./admin.module.css";
import { LEGACY_ENTITIES } from "@/lib/history/entity-types";

// Event bindings and placements, expected vs actual (event.get / placement.get), as Bitrix24 admins think of them:
// the CRM events as an entity × action matrix, the app's own events and the placements as lists. Rebind repairs.
const ENTITIES = LEGACY_ENTITIES.map((e) => e.toUpperCase());
const ACTIONS = ["ADD", "UPDATE", "DELETE"];

type Binding = AdminOverview["bindings"][number];

function state(b: Binding | undefined, t: Dict) {
  if (!b) return <Badge tone="muted">—</Badge>;
  return <Badge tone={b.actual ? "ok" : "bad"}>{b.actual ? `✓ ${b.mode}` : `✗ ${t.broken}`}</Badge>;
}

export function BindingsCard({ bindings, t, handler }: { bindings: Binding[]; t: Dict; handler: string }) {
  const byCode = new Map(bindings.map((b) => [b.code, b]));
  const healthy = bindings.filter((b) => b.actual).length;
  const names = entityLabels(t);
  const others = bindings.filter((b) => !/^ONCRM/.test(b.code));
  return (
    <Card title={t.bindings} id="bindings">
      <div className={styles.cardHead}>
        <p>
          <Badge tone={healthy === bindings.length ? "ok" : "bad"}>
            {healthy} / {bindings.length}
          </Badge>{" "}
          {t.healthy} ·{" "}
          <span className={styles.muted}>
            {t.handler}: <code>{handler}</code>
          </span>
        </p>
        <RebindButton label={t.rebind} busyLabel={t.rebinding} doneLabel={t.rebound} />
      </div>
      <h3 className={styles.subTitle}>{t.crmEvents}</h3>
      <Table
        head={[t.item, t.added, t.changed, t.removed]}
        rows={ENTITIES.map((e) => [
          names[e.toLowerCase()]!,
          ...ACTIONS.map((a) => state(byCode.get(`ONCRM${e}${a}`), t)),
        ])}
      />
      <h3 className={styles.subTitle}>
        {t.appEvents} · {t.placements}
      </h3>
      <Table
        head={[t.item, t.mode, t.actual]}
        rows={others.map((b) => [<code key={b.code}>{b.code}</code>, b.mode, state(b, t)])}
      />
    </Card>
  );
}
