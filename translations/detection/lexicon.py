"""Hand-written linguistic knowledge used next to the n-gram model.

Everything here was written from general knowledge of the languages (no
corpus, no dev-set text): the most frequent function words of each
language, and the letters each alphabet uses beyond the script's common
core. These are what separates the classic confusion groups (hr/sl,
cs/sk, da/sv, es/pt, bg/ru/uk) far more reliably on a short tip than
character trigrams do.
"""

from __future__ import annotations

from collections.abc import Mapping

# --- Function words -------------------------------------------------------
# Lower-case, space-separated. Words shared by several languages are listed
# for each of them: a shared word then simply does not discriminate. Romanian
# s/t with comma are written with cedilla, as the n-gram profiles do (the
# text is folded the same way before lookup).
_FUNCTION_WORDS: dict[str, str] = {
    "en": """the of and to a in is it that for on with as was he she they we you i be at
        by this have from or an are not but had his her their were been has which will
        would there what when who can all if do does did no so about up out my your our
        me him them us its than then also into only just over after some more very could
        should may might must how where why these those because any here now said get
        got i'm it's don't didn't can't isn't there's yesterday""",
    "de": """der die das den dem des ein eine einen einem einer eines und oder aber ist
        sind war waren wird werden wurde wurden hat haben hatte hatten nicht kein keine
        auch noch schon nur sehr mit von zu zum zur im in am an auf aus bei für über
        unter nach vor durch um wie was wer wo wann warum dass daß sich ich du er sie es
        wir ihr mich mir dich dir uns euch ihm ihn ihnen mein meine dein seine ihre
        unser dieser diese dieses diesem diesen jeder jede kann können muss müssen soll
        will hier dort dann denn doch ja nein nichts etwas man als wenn ob bis gegen
        ohne seit während weil habe gibt gestern""",
    "fr": """le la les l' un une des du de d' et ou mais est sont était étaient été être
        avoir a ont avait ce cet cette ces c' qui que qu' quoi dont où il elle ils elles
        je j' tu nous vous on me m' te t' se s' lui leur leurs son sa ses mon ma mes ton
        ta tes notre nos votre vos ne n' pas plus aussi très bien avec pour par dans sur
        sous chez en au aux y comme si quand tout tous toute toutes même autre après
        avant depuis pendant sans entre encore déjà fait peut ai hier""",
    "es": """antes después nunca siempre aquí ahora nada algo el la los las lo un una
        unos unas de del al y e o u pero que qué quien quién como cómo cuando cuándo
        donde dónde es son era eran fue fueron ser estar está están estaba ha han había
        he hay tiene tienen no sí se su sus mi mis tu tus nuestro nuestra le les me te
        nos yo él ella ellos ellas usted ustedes este esta estos estas ese esa eso esto
        muy más también ya por para con sin sobre entre hasta desde porque pues todo
        todos toda todas otro otra puede hace hacer ayer""",
    "it": """il lo la i gli le l' un uno una un' di del dello della dei degli delle d' a
        al allo alla ai agli alle da dal dalla dai in nel nello nella nei negli nelle su
        sul sulla con per tra fra e ed o ma che chi cui non è sono era erano stato stata
        essere ha hanno aveva avere ho si ci mi ti vi ne io tu lui lei noi voi loro suo
        sua suoi sue mio mia questo questa questi quello quella anche più molto come
        quando dove perché se già ancora sempre tutto tutti tutta poi dell' all' nell'
        dall' sull' c' ieri""",
    "pt": """antes depois nunca sempre aqui agora nada algo o a os as um uma uns umas de
        do da dos das no na nos nas ao aos à às em por pelo pela pelos pelas para com
        sem e ou mas que quem qual como quando onde é são era eram foi foram ser estar
        está estão estava tem têm ter há não sim se seu sua seus suas meu minha eu ele
        ela eles elas você vocês nós lhe este esta isto esse essa isso aquele aquela
        muito mais também já ainda porque pois todo todos toda todas outro outra pode
        fazer num numa ontem""",
    "nl": """de het een en of maar dat die dit deze wat wie waar wanneer hoe waarom is
        zijn was waren wordt worden werd werden heeft hebben had hadden niet geen ook
        nog al wel zeer heel erg met van voor in op aan bij uit naar over onder door om
        tot als dan te er hij zij ze wij we jij je u ik hem haar hun ons mijn jouw kan
        kunnen moet moeten zal zou wil hier daar nu toen alleen gisteren""",
    "pl": """i w we z ze na do nie się że to jest są był była było byli jak co czy ale
        lub oraz a o od po za przez przy dla bez pod nad przed między jego jej ich mój
        moja nasz ten ta te tego tej tym które który która których także też już jeszcze
        tylko bardzo może można będzie być ma mają miał gdy kiedy gdzie dlaczego jeśli
        jako tak ja ty on ona ono my wy oni mnie mi go mu jednak więc bo czyli wczoraj""",
    "ro": """şi si în in la de pe cu din pentru care că ca ce este sunt era au a fost fi
        nu mai un o unui unei nişte al ale ai lui ei lor el ea noi voi eu tu se să sa le
        îl îi ne vă mă această acest aceasta acesta aceste aceşti acolo aici foarte doar
        încă deja dar sau iar când unde cum cine după până prin despre între sub fără
        către toate toţi tot am ieri""",
    "cs": """protože teď pak mně tady všechno hodně svůj své toho tom tím něco nic více
        a i v ve na se je jsou byl byla bylo byli být to že ale nebo jak co kdo kde kdy
        proč který která které kteří ten ta tento tato toto jeho její jejich můj moje
        náš já ty on ona ono my vy oni mi mě mu ho jsem jsi jsme jste s z ze do od po
        pro při pod nad před za bez k ke o u také už ještě jen jenom velmi může mohou
        bude budou má mají měl není nejsou když jako tak aby by však proto tedy včera""",
    "sk": """sme čo pretože teraz potom mňa mne tu tam všetko veľa svoj svoje toho tom
        tým niečo nič viac a i aj v vo na sa je sú bol bola bolo boli byť to že ale
        alebo ako kto kde kedy prečo ktorý ktorá ktoré ktorí ten tá tento táto toto jeho
        jej ich môj moje náš ja ty on ona ono my vy oni mi ma mu ho som si ste s z zo do
        od po pre pri pod nad pred za bez k ku o u tiež už ešte len veľmi môže môžu bude
        budú má majú mal nie keď tak aby by však preto teda včera""",
    "hu": """a az egy és is nem hogy van volt lesz vagy de meg már még csak mint ha ez
        azt ezt ami amely aki mi ki mit mert akkor itt ott nagyon sem se én te ő ti ők
        engem neki nekem ezért után alatt között mellett felett szerint minden sok más
        egyik kell lehet lett voltak vannak így úgy pedig hanem majd tegnap""",
    "sv": """om eftersom riktigt bra före mig dig henne dem er sådan nej ja kommer skall
        och i att det som en ett är var den de på för med av till inte har hade han hon
        vi ni jag du man sig sin sitt sina hans hennes deras min mitt mina vår kan ska
        skulle kunde vill från ut upp efter när där här så men eller också bara mycket
        även nu då vid under över mellan genom utan hur vad vem varför vilken detta
        dessa denna blir blev varit finns någon något igår""",
    "da": """hvis fordi nogen rigtig godt før mig dig hende dem jeres sådan nej ja og i
        at det som en et er var den de på for med af til ikke om har havde han hun vi
        jeg du man sig sin sit sine hans hendes deres min mit mine vores kan skal skulle
        kunne vil fra ud op efter når hvor her så men eller også kun meget nu da ved
        under over mellem gennem uden hvordan hvad hvem hvorfor hvilken dette disse
        denne bliver blev været findes nogle noget jo""",
    "fi": """ja on ei se että oli ovat olla ole en et emme mutta tai kun jos niin kuin
        myös vain jo vielä hyvin kanssa mukaan sekä joka jotka mikä mitä kuka missä
        miksi miten tämä tuo nämä ne hän minä sinä me te he sen sitä siitä hänen minun
        meidän olen olet olemme ollut kaikki koska vaikka nyt sitten jälkeen ennen
        aikana yli alla eilen""",
    "hr": """nešto ništa sada onda ovdje tamo sve svoj svoju i u na je se da za su od s
        sa što koji koja koje kao ali sam si smo ste će ću bi iz po ili još samo nije
        nisu biti bio bila bilo ovo to taj ta ovaj ova kako gdje tko kada kad jer ako
        nakon prema među između također vrlo jako svi već bez pa te ni niti li može mogu
        treba njegov njezin njihov moj naš ja ti on ona mi vi oni ga mu joj im ih me
        tijekom zbog jučer""",
    "sl": """nič zdaj potem tukaj tam svoj svojo in je v na se da za so od s z ki kot
        ali sem si smo ste bo bom bi iz po še samo ni niso biti bil bila bilo to ta ker
        če pri tudi zelo vse vsi že brez pa ter ne lahko kje kdo kdaj kaj kako tega temu
        tem njegov njen njihov moj naš jaz ti on ona mi vi oni ga mu ji jih me med skozi
        vendar zato torej le saj kar sta bodo nekaj včeraj""",
    "lt": """ir o bet kad kaip kur kas kuris kuri kurie yra buvo bus būti ne taip su iš
        į ant prie per po už be nuo iki apie tarp dėl jis ji jie jos mes jūs aš tu savo
        jo jų mano tavo šis ši tai tas ta tie kiti kita dar jau tik labai gali galima
        reikia nes jei arba tačiau čia ten vakar""",
    "lv": """un ir ar uz no par pie bet ka kā kur kas kurš kura kuri bija būs būt nav ne
        jā tā arī vēl jau tikai ļoti var varētu viņš viņa viņi mēs jūs es tu savu viņu
        mans tavs šis šī tas tie ko kam pēc pirms līdz starp zem virs bez caur lai jo
        vai tad tur šeit vakar""",
    "et": """ja on ei et see ta nad oli olid olema mis kes kus kui või aga ka ning veel
        juba ainult väga võib saab peab tema mina sina meie teie nemad ma sa me te selle
        seda sellel oma minu sinu kõik pärast enne ilma koos üle all vahel kuid siis
        nüüd siin seal sest eile""",
    "tr": """ve bir bu da de ile için gibi çok daha en ne ki mi mı mu mü var yok olarak
        olan olduğu ama ise veya ya ben sen o biz siz onlar bana sana onu onun benim
        bizim şu her hiç kadar sonra önce göre değil diye ancak şey şimdi zaman nasıl
        neden nerede kim hangi tüm bütün dün""",
    "uk": """мене мені бачив тут там зараз потім все всі свій і й та в у на з із до від
        за по про для не що як це він вона воно вони ми ви я ти його її їх був була було
        були бути є буде може також вже ще тільки дуже але або коли де хто чому який яка
        яке які цей ця ці той так ні тому щоб якщо після через між під над без вчора""",
    "ru": """меня мне тоже какой здесь там сейчас потом всё все свой и в во на с со к ко
        по о об от до за из у для не что как это он она оно они мы вы я ты его её их был
        была было были быть есть будет может также уже ещё еще только очень но или когда
        где кто почему который которая которое которые этот эта эти тот та так нет
        поэтому чтобы если после через между под над без же бы ли вот вчера""",
    "bg": """мен ме ми ги защо какво няма има тук там сега после всичко всички свой един
        една едно и в във на с със към по за от до из у не че как това той тя то те ние
        вие аз ти го я му ѝ им беше бяха бил била било били е са съм си сме сте ще може
        също вече още само много но или когато където кой коя кое кои който която което
        които този тази тези така защото ако след през между под над без да ли пък вчера""",
}

FUNCTION_WORDS: Mapping[str, frozenset[str]] = {
    lang: frozenset(words.split()) for lang, words in _FUNCTION_WORDS.items()
}

# --- Alphabets --------------------------------------------------------------
# Letters a language writes natively beyond its script's common core (ASCII
# a-z for Latin; the letters Russian, Ukrainian and Bulgarian share for
# Cyrillic). A letter outside core + own extras is evidence *against* the
# language: "ř" cannot be Slovak, "ы" cannot be Ukrainian.
SCRIPT_CORE: Mapping[str, frozenset[str]] = {
    "LATIN": frozenset("abcdefghijklmnopqrstuvwxyz"),
    "CYRILLIC": frozenset("абвгдежзийклмнопрстуфхцчшщьюя"),
}

ALPHABET_EXTRAS: Mapping[str, frozenset[str]] = {
    lang: frozenset(letters.replace(" ", ""))
    for lang, letters in {
        "en": "é",  # loanwords (café, fiancé) are common enough
        "de": "ä ö ü ß é",
        "fr": "à â æ ç é è ê ë î ï ô œ ù û ü ÿ",
        "es": "á é í ñ ó ú ü",
        "it": "à è é ì í î ò ó ù ú",
        "pt": "á â ã à ç é ê í ó ô õ ú ü",
        "nl": "é ë ï ö ü è á ó",
        "pl": "ą ć ę ł ń ó ś ź ż",
        "ro": "ă â î ş ţ",
        "cs": "á č ď é ě í ň ó ř š ť ú ů ý ž",
        "sk": "á ä č ď é í ĺ ľ ň ó ô ŕ š ť ú ý ž",
        "hu": "á é í ó ö ő ú ü ű",
        "sv": "å ä ö é",
        "da": "æ ø å é",
        "fi": "ä ö å š ž",
        "hr": "č ć đ š ž",
        "sl": "č š ž",
        "lt": "ą č ę ė į š ų ū ž",
        "lv": "ā č ē ģ ī ķ ļ ņ š ū ž",
        "et": "ä ö õ ü š ž",
        "tr": "ç ğ ı ö ş ü â î û",
        "uk": "і ї є ґ",
        "ru": "ъ ы э ё",
        "bg": "ъ ѝ",
    }.items()
}

# --- Hint normalisation -------------------------------------------------------
# Legacy or macro-language codes Telegram clients still send.
HINT_ALIASES: Mapping[str, str] = {
    "iw": "he",
    "in": "id",
    "ji": "yi",
    "jw": "jv",
    "mo": "ro",
    "nb": "no",
    "nn": "no",
}

# Languages we do not detect, mapped to the supported language a speaker of
# them most plausibly writes (or whose text theirs is closest to). Such a
# hint is weaker than a direct one.
RELATED_HINTS: Mapping[str, str] = {
    "bs": "hr",
    "sr": "hr",
    "sh": "hr",
    "cnr": "hr",
    "mk": "bg",
    "no": "da",
    "gl": "pt",
    "be": "ru",
    "mt": "it",
}


def fold_for_lookup(word: str) -> str:
    """Fold a lower-cased word to the spelling used in the tables above.

    Romanian is written with both comma-below (correct) and cedilla
    (legacy) s/t; the tables and the n-gram profiles use cedilla.
    """
    return word.replace("ș", "ş").replace("ț", "ţ")
