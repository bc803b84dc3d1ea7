export default function Home() {
  return (
    <main style={{ padding: "var(--b24-space-xl)" }}>
      <h1>Change History for Bitrix24</h1>
      <p>This app runs inside Bitrix24. Open it from your portal&apos;s Applications menu or from a CRM card.</p>
    </main>
  );
}
