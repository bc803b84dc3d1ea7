import type { ReactNode } from "react";
import styles from "./ui.module.css";

// Stateless primitives in Bitrix24's look (app/globals.css variables): cards, badges, tables, charts, progress.
export function Card({ title, children, id }: { title: string; children: ReactNode; id?: string }) {
  return (
    <section className={styles.card} aria-labelledby={id}>
      <h2 id={id} className={styles.cardTitle}>
        {title}
      </h2>
      {children}
    </section>
  );
}

export function Badge({ tone, children }: { tone: "ok" | "warn" | "bad" | "muted"; children: ReactNode }) {
  return <span className={`${styles.badge} ${styles[tone]}`}>{children}</span>;
}

export function Table({ head, rows, caption }: { head: string[]; rows: ReactNode[][]; caption?: string }) {
  return (
    <div className={styles.tableWrap}>
      <table className={styles.table}>
        {caption ? <caption className={styles.caption}>{caption}</caption> : null}
        <thead>
          <tr>
            {head.map((h) => (
              <th key={h} scope="col">
                {h}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((r, i) => (
            <tr key={i}>
              {r.map((c, j) => (
                <td key={j}>{c}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** A small bar chart of values over time (per minute); labelled for screen readers. */
export function Sparkline({
  values,
  label,
  tone = "accent",
}: {
  values: number[];
  label: string;
  tone?: "accent" | "bad";
}) {
  const max = Math.max(1, ...values);
  const w = 4;
  const h = 28;
  return (
    <svg
      className={styles.spark}
      viewBox={`0 0 ${values.length * (w + 1)} ${h}`}
      preserveAspectRatio="none"
      style={{ maxWidth: values.length * (w + 1) }}
      height={h}
      role="img"
      aria-label={`${label}: ${values.reduce((a, b) => a + b, 0)} total`}
    >
      {values.map((v, i) => (
        <rect
          key={i}
          x={i * (w + 1)}
          y={h - (v / max) * h}
          width={w}
          height={(v / max) * h || 1}
          className={tone === "bad" ? styles.barBad : styles.bar}
        />
      ))}
    </svg>
  );
}

export function Progress({ value, max, label }: { value: number; max: number | null; label: string }) {
  const pct = max ? Math.min(100, Math.round((value / max) * 100)) : null;
  return (
    <div className={styles.progress}>
      <div
        role="progressbar"
        aria-label={label}
        aria-valuemin={0}
        aria-valuemax={max ?? undefined}
        aria-valuenow={value}
        className={styles.track}
      >
        <div className={styles.fill} style={{ width: `${pct ?? 100}%` }} />
      </div>
      <span className={styles.muted}>
        {label}: {value}
        {max ? ` / ${max} (${pct}%)` : ""}
      </span>
    </div>
  );
}

/** A headline figure with a label (the admin page's overview strip), optionally with a small chart under it. */
export function Tile({
  label,
  value,
  tone = "muted",
  href,
  children,
}: {
  label: string;
  value: ReactNode;
  tone?: "ok" | "warn" | "bad" | "muted";
  href?: string;
  children?: ReactNode;
}) {
  const body = (
    <>
      <span className={`${styles.tileValue} ${styles[`${tone}Text`]}`}>{value}</span>
      <span className={styles.tileLabel}>{label}</span>
      {children}
    </>
  );
  return href ? (
    <a className={styles.tile} href={href}>
      {body}
    </a>
  ) : (
    <div className={styles.tile}>{body}</div>
  );
}
