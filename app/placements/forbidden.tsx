import { PlacementNotice } from "@/components/placements/history-view";
import { boundaryDict } from "@/components/placements/placement-page";

// 403: the user's Bitrix24 rights do not let them read the record, so its history is hidden too.
export default async function Forbidden() {
  const { lang, t } = await boundaryDict();
  return <PlacementNotice text={t.recordDenied} title={t.history} lang={lang} />;
}
