import { PlacementNotice } from "@/components/placements/history-view";
import { boundaryDict } from "@/components/placements/placement-page";

// 404: the record is gone from Bitrix24, or the address names no record at all (a malformed entity or id).
export default async function NotFound() {
  const { lang, t } = await boundaryDict();
  return <PlacementNotice text={t.recordMissing} title={t.history} lang={lang} />;
}
