import { InstallFinish } from "@/components/frame/install-finish";
import { verifySigned } from "@/lib/crypto";
import { getDb } from "@/lib/db";
import type { Problem } from "@/lib/lifecycle/probe";

export const dynamic = "force-dynamic";

const TEXT = {
  en: {
    title: "Change History",
    ok: "The app is installed. Open any CRM card to see its change history.",
    finishing: "Installation finished.",
    failed: "Could not reach Bitrix24 to finish the installation; reopen the app.",
    blocked: "The app cannot be installed on this portal yet:",
  },
  ru: {
    title: "История изменений",
    ok: "Приложение установлено. Откройте любую карточку CRM, чтобы увидеть историю изменений.",
    finishing: "Установка завершена.",
    failed: "Не удалось завершить установку; откройте приложение снова.",
    blocked: "Приложение пока нельзя установить на этот портал:",
  },
};

export default async function InstallFinishPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | undefined>>;
}) {
  const q = await searchParams;
  const t = q.lang === "ru" ? TEXT.ru : TEXT.en;
  const portalId = q.p ? verifySigned(q.p) : null;
  if (q.state === "ok" && portalId) {
    return (
      <main style={{ padding: "var(--b24-space-xl)" }}>
        <h1>{t.title}</h1>
        <p>{t.ok}</p>
        <InstallFinish doneText={t.finishing} failedText={t.failed} />
      </main>
    );
  }
  const profile = portalId ? await getDb().capabilityProfile.findUnique({ where: { portalId } }) : null;
  const problems = ((profile?.problems ?? []) as unknown as Problem[]).filter((p) => p.level === "error");
  return (
    <main style={{ padding: "var(--b24-space-xl)" }}>
      <h1>{t.title}</h1>
      <p role="alert">{t.blocked}</p>
      <ul>
        {problems.map((p) => (
          <li key={p.item}>{p.message}</li>
        ))}
      </ul>
    </main>
  );
}
